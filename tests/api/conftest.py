"""Fixtures for the API tests: the scripted grader (tests/scripted.py) behind the app."""
from __future__ import annotations

import pytest

from tests.scripted import ScriptedGraders


@pytest.fixture
def scripted() -> ScriptedGraders:
    fakes = ScriptedGraders()
    yield fakes
    fakes.release()  # never leave a worker thread waiting


@pytest.fixture
def api(make_client, scripted, settings):
    """The app with in-process workers running the scripted grader."""
    return make_client(settings, grader_for=scripted)


def wait_for(api, submission_id: str, headers: dict, seconds: float = 20) -> dict:
    r = api.get(f"/api/v1/submissions/{submission_id}", params={"wait": seconds}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()
