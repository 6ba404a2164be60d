"""The curl and Python examples of docs/serving.md work as written, against the real API over Redis (only the
port differs: the test's server runs on a free one)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from pipeline.settings import Settings
from tests.support.api import running_api
from tests.support.ecom import REPO, ecom
from tests.support.serving import write_serving_build

pytestmark = pytest.mark.integration

DOC = REPO / "docs" / "serving.md"


def blocks(language: str) -> list[str]:
    section = DOC.read_text().split("## The HTTP API", 1)[1]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def test_the_documented_curl_and_python_examples_answer(redis_server, tmp_path):
    data_dir = tmp_path / "data"  # the examples run from the repository root, where data/ is
    write_serving_build(Settings.load(data_dir=data_dir), 9)
    url = redis_server.new_url()
    ecom("publish", data_dir=data_dir, env={"ECOM_REDIS_URL": url})
    # no ECOM_API_TOKEN: the API generates data/secrets/api.token, which the examples read
    with running_api(data_dir, {"ECOM_REDIS_URL": url, "ECOM_API_TOKEN": ""}) as api:
        (curl,) = blocks("bash")
        (python,) = blocks("python")
        curl, python = (b.replace("http://127.0.0.1:8000", api.url) for b in (curl, python))
        shell = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", curl], cwd=tmp_path, capture_output=True, text=True
        )
        assert shell.returncode == 0, shell.stderr
        lines = shell.stdout.splitlines()
        answers = [json.loads(line) for line in lines[:-1] if line.startswith("{")]
        assert [a["build_id"] for a in answers] == ["serving-build-v9"] * 3
        assert answers[0]["segment"] == "female" and len(answers[0]["items"]) == 5
        assert lines[-1].strip().lower() == "x-served-from: redis"
        run = subprocess.run([sys.executable, "-c", python], cwd=tmp_path, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        first, second = run.stdout.splitlines()
        assert first.startswith("redis ['brand 1 of all v9'")
        assert "'kpi_date': '2025-12-31'" in second
