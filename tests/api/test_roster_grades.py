"""Roster import (TA, LMS; idempotent) and grades (own; everyone's for TA and LMS)."""
from __future__ import annotations

from .conftest import wait_for

ROSTER = {"students": [
    {"name": "Ada Lovelace", "email": "ada@example.org"},
    {"name": "Alan Turing", "external_id": "moodle-42"},
]}


def test_roster_is_idempotent_and_hands_out_working_tokens(api, add_user):
    lms = add_user("lms")
    first = api.post("/api/v1/roster", headers=lms.headers, json=ROSTER)
    assert first.status_code == 200, first.text
    created = first.json()["created"]
    assert [s["name"] for s in created] == ["Ada Lovelace", "Alan Turing"] and first.json()["existing"] == []
    assert all(s["token"].startswith("ag_") for s in created)

    again = api.post("/api/v1/roster", headers=lms.headers, json=ROSTER).json()
    assert again["created"] == []
    assert [(s["id"], s["token"]) for s in again["existing"]] == [(s["id"], None) for s in created]

    ada = {"Authorization": f"Bearer {created[0]['token']}"}
    me = api.get("/api/v1/grades/me", headers=ada)
    assert me.status_code == 200 and me.json()["student"]["email"] == "ada@example.org"


def test_roster_needs_ta_or_lms_and_valid_entries(api, add_user):
    student, ta = add_user(), add_user("ta")
    assert api.post("/api/v1/roster", headers=student.headers, json=ROSTER).status_code == 403
    nobody = api.post("/api/v1/roster", headers=ta.headers, json={"students": [{"name": "X"}]})
    assert nobody.status_code == 422 and "email or an external_id" in nobody.json()["detail"]
    empty = api.post("/api/v1/roster", headers=ta.headers, json={"students": []})
    assert empty.status_code == 422 and "students" in empty.json()["detail"]
    ta_email = add_user("ta", email="ta@example.org")
    clash = api.post("/api/v1/roster", headers=ta.headers, json={"students": [{"name": "T", "email": "ta@example.org"}]})
    assert clash.status_code == 409 and ta_email.role in clash.json()["detail"]


def test_the_best_graded_submission_counts(api, add_user):
    alice, bob, ta, lms = add_user("student", "alice"), add_user("student", "bob"), add_user("ta"), add_user("lms")
    ids = [
        api.post("/api/v1/submissions", headers=alice.headers, json={"exercise": "ex2", "answers": a}).json()["id"]
        for a in ({"alpha": "right", "objective": "right"}, {"alpha": "right"}, {"alpha": "crash"})
    ]
    for sid in ids:
        wait_for(api, sid, alice.headers)
    me = api.get("/api/v1/grades/me", headers=alice.headers).json()
    ex2 = next(g for g in me["exercises"] if g["exercise"] == "ex2")
    assert (ex2["score"], ex2["submission_id"], ex2["submissions"]) == (8, ids[0], 3)
    assert me["total"] == 8 and me["max_total"] == 100 and me["counting"] == "best"
    ex1 = next(g for g in me["exercises"] if g["exercise"] == "ex1")
    assert ex1["score"] is None and ex1["submissions"] == 0

    assert api.get("/api/v1/grades", headers=alice.headers).status_code == 403
    for staff in (ta, lms):
        everyone = api.get("/api/v1/grades", headers=staff.headers).json()["students"]
        assert [(s["student"]["name"], s["total"]) for s in everyone] == [("alice", 8), ("bob", 0)]
