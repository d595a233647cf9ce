"""Multipart submissions with files: matched to the rubric by filename, stored once by
content (sha256), handed to the grader under the names they came with."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

from sqlalchemy import select

from app.models import Blob, SubmissionFile

from .conftest import wait_for

SOLUTION = b"def cosine_logits(z, W, tau):\n    return z @ W.T / tau\n"
WEIGHTS = bytes(range(256)) * 40


def submit_ex4(api, account, files, answers=None, **kw):
    return api.post(
        "/api/v1/submissions",
        headers=account.headers,
        data={"exercise": "ex4", "answers": json.dumps(answers or {})},
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
        **kw,
    )


def test_files_reach_the_grader_and_are_stored_by_content(api, add_user, scripted, sessions, settings):
    alice, bob = add_user(), add_user()
    r = submit_ex4(api, alice, [("some/dir/solution.py", SOLUTION), ("cosine_cnn.pt", WEIGHTS)])
    assert r.status_code == 202, r.text
    result = wait_for(api, r.json()["id"], alice.headers)
    assert result["status"] == "graded"
    items = {i["id"]: i for i in result["items"]}
    assert items["ex4a.cosine_logits"]["feedback"] == "received solution.py"
    assert items["ex4c.accuracy"]["feedback"] == "received cosine_cnn.pt"  # the suffix survives
    assert items["ex4d.reconstruction"]["score"] == 0
    assert scripted.files_seen[-1] == {"solution": ("solution.py", SOLUTION), "cosine_cnn": ("cosine_cnn.pt", WEIGHTS)}

    # The same weights from another student: one blob on disk, two references.
    r2 = submit_ex4(api, bob, [("cosine_cnn.pt", WEIGHTS)])
    wait_for(api, r2.json()["id"], bob.headers)
    digest = hashlib.sha256(WEIGHTS).hexdigest()
    blob_path = settings.blob_dir / digest[:2] / digest[2:]
    assert blob_path.read_bytes() == WEIGHTS
    with sessions() as db:
        assert set(db.scalars(select(Blob.sha256))) == {digest, hashlib.sha256(SOLUTION).hexdigest()}
        refs = db.scalars(select(SubmissionFile).where(SubmissionFile.sha256 == digest)).all()
        assert {(f.name, f.filename) for f in refs} == {("cosine_cnn", "cosine_cnn.pt")} and len(refs) == 2
    assert list(settings.tmp_dir.iterdir()) == []  # grading copies are cleaned up


def test_multipart_idempotency_stores_nothing_twice(api, add_user, sessions):
    alice = add_user()
    key = {"Idempotency-Key": "upload-1"}
    first = api.post("/api/v1/submissions", headers={**alice.headers, **key},
                     data={"exercise": "ex4"}, files=[("files", ("solution.py", SOLUTION))])
    again = api.post("/api/v1/submissions", headers={**alice.headers, **key},
                     data={"exercise": "ex4"}, files=[("files", ("solution.py", SOLUTION))])
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["id"] == again.json()["id"]
    with sessions() as db:
        assert len(db.scalars(select(SubmissionFile)).all()) == 1


def test_starter_kit_is_a_zip_for_students(client, add_user):
    api = client  # the real ex4 grader builds the kit
    alice = add_user()
    r = api.get("/api/v1/exercises/ex4/starter", headers=alice.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert any(name.endswith("/solution.py") or name == "solution.py" for name in names), names
    assert 'filename="ex4-starter.zip"' in r.headers["content-disposition"]
    none = api.get("/api/v1/exercises/ex1/starter", headers=alice.headers)
    assert none.status_code == 404 and "no starter kit" in none.json()["detail"]
    assert api.get("/api/v1/exercises/ex9/starter", headers=alice.headers).status_code == 404
    assert api.get("/api/v1/exercises/ex4/starter").status_code == 401
