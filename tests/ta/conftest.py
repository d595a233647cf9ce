"""Fixtures for the TA/LMS tests (on top of tests/conftest.py: `make_client`, `add_user`, ...).

- `scripted`: the scripted grader (tests/scripted.py); `ta_api`: the app grading with it.
- `policies(yaml_text)`: point AUTOGRADER_POLICIES_FILE at a policy file for this test.
- `submit(api, account, answers, exercise="ex2")`: submit and wait for the grade."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from app.policies import POLICIES_FILE_ENV

from tests.scripted import ScriptedGraders

# Generous limits, so that tests which are not about policies never meet one.
OPEN_POLICY = "defaults: {counts: best, rate_limit: null, max_attempts: null}\n"


@pytest.fixture
def policies(tmp_path: Path, monkeypatch) -> Callable[[str], Path]:
    def use(text: str) -> Path:
        path = tmp_path / "policies.yaml"
        path.write_text(text)
        monkeypatch.setenv(POLICIES_FILE_ENV, str(path))
        return path

    use(OPEN_POLICY)
    return use


@pytest.fixture
def scripted() -> ScriptedGraders:
    return ScriptedGraders()


@pytest.fixture
def ta_api(make_client, settings, scripted, policies):
    return make_client(settings, grader_for=scripted)


@pytest.fixture
def submit() -> Callable[..., dict]:
    def run(api, account, answers: dict, exercise: str = "ex2", wait: float = 20) -> dict:
        r = api.post("/api/v1/submissions", headers=account.headers, json={"exercise": exercise, "answers": answers})
        assert r.status_code == 202, r.text
        done = api.get(f"/api/v1/submissions/{r.json()['id']}", params={"wait": wait}, headers=account.headers)
        assert done.status_code == 200 and done.json()["status"] == "graded", done.text
        return done.json()

    return run
