"""No secret or password is committed: scan every tracked file."""

from __future__ import annotations

import re
import subprocess

from tests.support.ecom import REPO

PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    # a literal password assigned in code or config (values read from the environment are fine)
    "literal password": re.compile(
        r"""(?i)\b(password|passwd|secret|api_key|token)\b["']?\s*[:=]\s*["']([^"'\s${}<>]{6,})["']"""
    ),
    "password in a URL": re.compile(
        r"(?i)\b(postgres(ql)?|mysql|redis|amqp)(\+\w+)?://[^:/\s]+:([^@\s$<{]{4,})@"
    ),
}
# Obvious dummies: documentation placeholders and the fake secrets the compose test feeds `docker-compose config`.
ALLOWED_VALUES = {"changeme", "example", "placeholder", "db-test", "bi-test", "jwt-test"}


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line]


def test_the_scanner_catches_what_it_should():
    assert PATTERNS["literal password"].search('password = "hunter2hunter2"')
    assert PATTERNS["password in a URL"].search("postgresql://bi_reader:s3cr3tpass@localhost:5432/ecommerce")
    assert not PATTERNS["literal password"].search('password = os.environ["ECOM_BI_READER_PASSWORD"]')


def test_no_secrets_in_tracked_files():
    findings = []
    for name in tracked_files():
        path = REPO / name
        if not path.is_file() or path.suffix in {".png", ".parquet", ".duckdb"}:
            continue
        text = path.read_text(errors="ignore")
        for label, pattern in PATTERNS.items():
            for match in pattern.finditer(text):
                value = match.group(match.lastindex or 0)
                if value.lower() in ALLOWED_VALUES or name.startswith("tests/reliability/test_secrets"):
                    continue
                line = text.count("\n", 0, match.start()) + 1
                findings.append(f"{name}:{line}: {label}")
    assert findings == []
