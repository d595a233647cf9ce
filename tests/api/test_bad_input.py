"""Bad input: a 4xx whose `detail` names the problem, and nothing stored half-way (no row,
no blob, no temp file)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.models import Blob, Submission, SubmissionFile

SMALL_REQUEST = 64 * 1024
SMALL_JSON = 8 * 1024


@pytest.fixture
def small_api(make_client, scripted, settings):
    """Limits small enough to hit without megabytes of test data."""
    small = settings.model_copy(update={"max_request_bytes": SMALL_REQUEST, "max_json_bytes": SMALL_JSON})
    return make_client(small, grader_for=scripted)


def chunked(data: bytes, size: int = 4096):
    """A body without Content-Length: the limit must hold while it streams."""
    for start in range(0, len(data), size):
        yield data[start:start + size]


def multipart(fields: dict[str, str], files: list[tuple[str, bytes]], part_name: str = "files",
              boundary: str = "b0undary", truncate: bool = False, fields_last: bool = False
              ) -> tuple[bytes, dict[str, str]]:
    """A multipart body written by hand, to control part order and to break it on purpose."""
    field_parts = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    file_parts = b"".join(
        (f'--{boundary}\r\nContent-Disposition: form-data; name="{part_name}"; filename="{filename}"\r\n'
         f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n"
        for filename, data in files
    )
    out = file_parts + field_parts if fields_last else field_parts + file_parts
    if truncate:
        out = out[: len(out) - 10]
    else:
        out += f"--{boundary}--\r\n".encode()
    return out, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def ex4_form(files, answers="{}", **kw):
    return multipart({"exercise": "ex4", "answers": answers}, files, **kw)


JSON = {"Content-Type": "application/json"}

# (name, client fixture, request kwargs, status, words the detail must contain)
CASES = [
    ("malformed JSON", "api", lambda: dict(content=b'{"exercise": "ex2", ', headers=JSON), 400, ["not valid JSON"]),
    ("unknown exercise", "api", lambda: dict(json={"exercise": "ex9", "answers": {}}), 422, ["unknown exercise", "ex9"]),
    ("unknown answer field", "api", lambda: dict(json={"exercise": "ex2", "answers": {"bogus": "1"}}), 422, ["answers.bogus"]),
    ("unknown top-level field", "api", lambda: dict(json={"exercise": "ex2", "answers": {}, "files": []}), 422, ["files"]),
    ("answers not an object", "api", lambda: dict(json={"exercise": "ex2", "answers": "1"}), 422, ["answers"]),
    ("exercise missing", "api", lambda: dict(json={"answers": {}}), 422, ["exercise"]),
    ("text answer too long", "api", lambda: dict(json={"exercise": "ex3", "answers": {"skip_connections": "x" * 2001}}),
     422, ["answers.skip_connections", "2000"]),
    ("JSON body too large, declared", "small_api",
     lambda: dict(content=json.dumps({"exercise": "ex3", "answers": {"input": "x" * SMALL_JSON}}).encode(), headers=JSON),
     413, ["limit"]),
    ("JSON body too large, streamed", "small_api",
     lambda: dict(content=chunked(json.dumps({"exercise": "ex3", "answers": {"input": "x" * SMALL_JSON}}).encode()),
          headers=JSON), 413, ["limit"]),
    ("wrong content type", "api", lambda: dict(content=b"exercise=ex2", headers={"Content-Type": "text/plain"}),
     415, ["application/json", "multipart/form-data"]),
    ("no content type", "api", lambda: dict(content=b"{}"), 415, ["Content-Type"]),
]

MULTIPART_CASES = [
    ("file over the rubric's limit", "api", lambda: ex4_form([("solution.py", b"#" * 300_000)]), 413,
     ["solution.py", "262144"]),
    ("file over the limit, exercise field last", "api",
     lambda: multipart({"exercise": "ex4"}, [("solution.py", b"#" * 300_000)], fields_last=True), 413,
     ["solution.py", "262144"]),
    ("exercise field missing", "api", lambda: multipart({"answers": "{}"}, []), 422, ["exercise"]),
    ("whole request over the limit", "small_api",
     lambda: ex4_form([("cosine_cnn.safetensors", b"\0" * (SMALL_REQUEST + 1))]), 413, ["limit"]),
    ("file nobody accepts", "api", lambda: ex4_form([("notes.txt", b"hello")]), 422, ["notes.txt"]),
    ("file for an exercise without files", "api",
     lambda: multipart({"exercise": "ex2"}, [("solution.py", b"x = 1\n")]), 422, ["solution.py", "ex2 takes no files"]),
    ("file for an exercise without files, exercise last", "api",
     lambda: multipart({"exercise": "ex2"}, [("solution.py", b"x = 1\n")], fields_last=True), 422,
     ["solution.py", "ex2 takes no files"]),
    ("the same file twice", "api",
     lambda: ex4_form([("cosine_cnn.pt", b"a"), ("cosine_cnn.safetensors", b"b")]), 422, ["cosine_cnn"]),
    ("answers field not JSON", "api", lambda: ex4_form([("solution.py", b"x = 1\n")], answers="{oops"), 400,
     ["answers", "not valid JSON"]),
    ("unknown answer in multipart", "api", lambda: multipart({"exercise": "ex2", "answers": '{"bogus": "1"}'}, []),
     422, ["answers.bogus"]),
    ("unknown form field", "api", lambda: multipart({"exercise": "ex2", "comment": "hi"}, []), 422, ["comment"]),
    ("file sent under another name", "api", lambda: ex4_form([("solution.py", b"x")], part_name="upload"), 422,
     ["upload", "files"]),
    ("truncated body", "api", lambda: ex4_form([("solution.py", b"x = 1\n" * 100)], truncate=True), 400,
     ["multipart"]),
    ("no boundary", "api", lambda: (b"--x--", {"Content-Type": "multipart/form-data"}), 400, ["boundary"]),
]


def assert_nothing_stored(sessions, settings):
    with sessions() as db:
        for model in (Submission, SubmissionFile, Blob):
            assert db.scalar(select(func.count()).select_from(model)) == 0, model.__name__
    assert [p for p in settings.blob_dir.rglob("*") if p.is_file()] == []
    assert list(settings.tmp_dir.iterdir()) == []


def check(response, status, words):
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    for word in words:
        assert word in detail, detail


@pytest.mark.parametrize("name, client_name, kwargs, status, words", CASES, ids=[c[0] for c in CASES])
def test_bad_json_submission(request, add_user, sessions, settings, name, client_name, kwargs, status, words):
    client = request.getfixturevalue(client_name)
    kwargs = kwargs()
    r = client.post("/api/v1/submissions", headers={**add_user().headers, **kwargs.pop("headers", {})}, **kwargs)
    check(r, status, words)
    assert_nothing_stored(sessions, settings)


@pytest.mark.parametrize("name, client_name, build, status, words", MULTIPART_CASES, ids=[c[0] for c in MULTIPART_CASES])
def test_bad_multipart_submission(request, add_user, sessions, settings, name, client_name, build, status, words):
    client = request.getfixturevalue(client_name)
    body, headers = build()
    r = client.post("/api/v1/submissions", headers={**add_user().headers, **headers}, content=body)
    check(r, status, words)
    assert_nothing_stored(sessions, settings)


@pytest.mark.parametrize("headers, words", [
    ({}, ["missing bearer token"]),
    ({"Authorization": "Bearer ag_not-a-real-token"}, ["invalid"]),
    ({"Authorization": "Basic dXNlcjpwdw=="}, ["missing bearer token"]),
])
def test_missing_or_bad_token(api, sessions, settings, headers, words):
    r = api.post("/api/v1/submissions", headers=headers, json={"exercise": "ex2", "answers": {}})
    check(r, 401, words)
    assert r.headers["www-authenticate"] == "Bearer"
    assert api.get("/api/v1/submissions", headers=headers).status_code == 401
    assert_nothing_stored(sessions, settings)
