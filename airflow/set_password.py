"""Write the simple auth manager's passwords file: {user: password}.

The password comes from ECOM_AIRFLOW_PASSWORD, else the one already in the file, else a new random one, so a
deployment keeps its login across restarts and no password is ever committed. Usage: set_password.py FILE USER
"""

import json
import os
import secrets
import sys


def main(path: str, user: str) -> None:
    try:
        with open(path) as fh:
            passwords = json.load(fh)
    except (FileNotFoundError, json.JSONDecodeError):
        passwords = {}
    wanted = os.environ.get("ECOM_AIRFLOW_PASSWORD") or passwords.get(user) or secrets.token_urlsafe(12)
    if passwords.get(user) != wanted:
        passwords[user] = wanted
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(passwords, fh)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: set_password.py PASSWORDS_FILE USER")
    main(sys.argv[1], sys.argv[2])
