"""TA work over HTTP: overrides beside the automatic score, the audit log, the review queue,
regrades in batches that keep overrides."""
import time

ANSWERS = {"alpha": "unsure", "objective": "right", "derivation": "wrong"}  # ex2: 2 + 4 + 0


def wait_regrade(api, ta, batch_id: str, seconds: float = 20) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        r = api.get(f"/api/v1/regrade/{batch_id}", headers=ta.headers)
        assert r.status_code == 200, r.text
        if r.json()["finished"] or time.monotonic() > deadline:
            return r.json()
        time.sleep(0.1)


def items_of(doc: dict) -> dict:
    return {i["id"]: i for i in doc["items"]}


def test_override_is_kept_beside_the_automatic_score_and_audited(ta_api, add_user, submit):
    ta, alice = add_user("ta", "Tess"), add_user("student", "alice")
    sub = submit(ta_api, alice, ANSWERS)
    assert sub["score"] == 6 and items_of(sub)["ex2a.alpha"]["score"] == 2

    r = ta_api.post(f"/api/v1/submissions/{sub['id']}/override", headers=ta.headers,
                    json={"item": "ex2a.alpha", "score": 3.5, "comment": "α = 1 is right, the sign slip costs 0.5"})
    assert r.status_code == 200, r.text
    assert r.json()["item"]["score"] == 3.5 and r.json()["item"]["auto_score"] == 2
    assert r.json()["submission_score"] == 7.5

    # the student sees the effective score and the comment, not the automatic score
    mine = ta_api.get(f"/api/v1/submissions/{sub['id']}", headers=alice.headers).json()
    assert mine["score"] == 7.5
    alpha = items_of(mine)["ex2a.alpha"]
    assert alpha["score"] == 3.5 and alpha["comment"].startswith("α = 1") and "auto_score" not in alpha
    assert set(items_of(mine)["ex2a.objective"]) == {"id", "score", "max_score", "feedback", "needs_review"}
    # a TA sees both
    theirs = items_of(ta_api.get(f"/api/v1/submissions/{sub['id']}", headers=ta.headers).json())["ex2a.alpha"]
    assert theirs["score"] == 3.5 and theirs["auto_score"] == 2
    # the counted grade follows the override
    assert ta_api.get("/api/v1/grades/me", headers=alice.headers).json()["total"] == 7.5

    audit = ta_api.get("/api/v1/audit", headers=ta.headers).json()
    assert audit[0]["actor"] == "Tess" and audit[0]["action"] == "override" and audit[0]["item"] == "ex2a.alpha"
    assert audit[0]["before"]["auto_score"] == 2 and audit[0]["after"]["score"] == 3.5
    assert audit[0]["comment"].startswith("α = 1")


def test_override_refusals(ta_api, add_user, submit):
    ta, alice, bob = add_user("ta"), add_user("student"), add_user("student")
    sub = submit(ta_api, alice, ANSWERS)
    url = f"/api/v1/submissions/{sub['id']}/override"
    body = {"item": "ex2a.alpha", "score": 1, "comment": "ok"}
    assert ta_api.post(url, headers=alice.headers, json=body).status_code == 403
    assert ta_api.post(url, headers=bob.headers, json=body).status_code == 403
    too_much = ta_api.post(url, headers=ta.headers, json={**body, "score": 4.5})
    assert too_much.status_code == 422 and "0..4" in too_much.json()["detail"]
    assert ta_api.post(url, headers=ta.headers, json={**body, "score": -1}).status_code == 422
    unknown = ta_api.post(url, headers=ta.headers, json={**body, "item": "ex1a.tau"})
    assert unknown.status_code == 422 and "ex2a.alpha" in unknown.json()["detail"]
    assert ta_api.post(url, headers=ta.headers, json={**body, "comment": ""}).status_code == 422
    assert ta_api.post(url, headers=ta.headers, json={"item": "ex2a.alpha", "comment": "x"}).status_code == 422
    assert ta_api.post("/api/v1/submissions/nope/override", headers=ta.headers, json=body).status_code == 404
    assert ta_api.get("/api/v1/audit", headers=alice.headers).status_code == 403
    assert ta_api.get("/api/v1/audit", headers=ta.headers).json() == []  # refusals change nothing


def test_review_queue_resolved_in_place(ta_api, add_user, submit):
    ta, alice = add_user("ta"), add_user("student", "alice")
    sub = submit(ta_api, alice, {"alpha": "unsure", "objective": "unsure"})
    queue = ta_api.get("/api/v1/review", headers=ta.headers).json()
    assert {(e["submission_id"], e["item"]["id"]) for e in queue} == {(sub["id"], "ex2a.alpha"), (sub["id"], "ex2a.objective")}
    entry = next(e for e in queue if e["item"]["id"] == "ex2a.alpha")
    assert entry["answer"] == "unsure" and entry["student"]["name"] == "alice" and entry["item"]["auto_score"] == 2
    assert ta_api.get("/api/v1/review", headers=alice.headers).status_code == 403

    url = f"/api/v1/submissions/{sub['id']}/override"
    r = ta_api.post(url, headers=ta.headers, json={"item": "ex2a.alpha", "accept": True, "comment": "half is fair"})
    assert r.status_code == 200 and r.json()["item"]["score"] == 2 and not r.json()["item"]["needs_review"]
    r = ta_api.post(url, headers=ta.headers, json={"item": "ex2a.objective", "score": 4, "comment": "correct"})
    assert r.status_code == 200
    assert ta_api.get("/api/v1/review", headers=ta.headers).json() == []
    mine = items_of(ta_api.get(f"/api/v1/submissions/{sub['id']}", headers=alice.headers).json())
    assert mine["ex2a.alpha"]["comment"] == "half is fair" and mine["ex2a.alpha"]["needs_review"] is False
    assert [e["action"] for e in ta_api.get("/api/v1/audit", headers=ta.headers).json()] == ["override", "accept"]


def test_regrade_keeps_overrides_reports_progress_and_reopens_changed_reviews(ta_api, add_user, submit, scripted):
    ta, alice, bob = add_user("ta"), add_user("student"), add_user("student")
    a = submit(ta_api, alice, {"alpha": "unsure", "objective": "unsure"})
    b = submit(ta_api, bob, {"alpha": "right"})
    url = f"/api/v1/submissions/{a['id']}/override"
    ta_api.post(url, headers=ta.headers, json={"item": "ex2a.alpha", "score": 4, "comment": "full marks"})
    ta_api.post(url, headers=ta.headers, json={"item": "ex2a.objective", "accept": True, "comment": "fine"})
    assert ta_api.get("/api/v1/review", headers=ta.headers).json() == []

    scripted.unsure_fraction = 0.25  # the graders changed: "unsure" is now worth less
    scripted.fail_submissions.add(b["id"])
    r = ta_api.post("/api/v1/regrade", headers=ta.headers, json={"exercise": "ex2"})
    assert r.status_code == 202, r.text
    assert r.json()["total"] == 2
    done = wait_regrade(ta_api, ta, r.json()["batch_id"])
    assert (done["total"], done["done"], done["failed"], done["pending"]) == (2, 1, 1, 0)
    assert scripted.calls.count(a["id"]) == 2 and scripted.calls.count(b["id"]) == 2

    after = ta_api.get(f"/api/v1/submissions/{a['id']}", headers=ta.headers).json()
    items = items_of(after)
    assert items["ex2a.alpha"]["score"] == 4 and items["ex2a.alpha"]["auto_score"] == 1  # override survived
    assert items["ex2a.objective"]["score"] == 1  # accepted automatic score follows the regrade ...
    queue = ta_api.get("/api/v1/review", headers=ta.headers).json()
    assert [(e["submission_id"], e["item"]["id"]) for e in queue] == [(a["id"], "ex2a.objective")]  # ... and is back
    # the grader failed on b's regrade: b keeps its grade, the batch reports the failure
    assert done["failures"] == [{"submission_id": b["id"], "error": done["failures"][0]["error"]}]
    assert "RuntimeError" in done["failures"][0]["error"]
    kept = ta_api.get(f"/api/v1/submissions/{b['id']}", headers=bob.headers).json()
    assert kept["status"] == "graded" and kept["score"] == b["score"] == 4
    assert items_of(kept)["ex2a.alpha"]["feedback"] == "Correct."
    assert ta_api.get("/api/v1/audit", headers=ta.headers).json()[0]["action"] == "regrade"


def test_regrade_all_or_unknown_exercise_and_roles(ta_api, add_user, submit):
    ta, alice = add_user("ta"), add_user("student")
    submit(ta_api, alice, {"alpha": "right"})
    submit(ta_api, alice, {"input": "right"}, exercise="ex3")
    assert ta_api.post("/api/v1/regrade", headers=alice.headers).status_code == 403
    assert ta_api.post("/api/v1/regrade", headers=ta.headers, json={"exercise": "ex9"}).status_code == 422
    r = ta_api.post("/api/v1/regrade", headers=ta.headers)
    assert r.status_code == 202 and r.json()["total"] == 2 and r.json()["exercise"] is None
    assert wait_regrade(ta_api, ta, r.json()["batch_id"])["done"] == 2
    assert ta_api.get("/api/v1/regrade/unknown", headers=ta.headers).status_code == 404


def test_submission_lists_show_the_score_after_overrides(ta_api, add_user, submit):
    ta, alice = add_user("ta"), add_user("student")
    sub = submit(ta_api, alice, ANSWERS)
    other = submit(ta_api, alice, {"alpha": "right"})
    ta_api.post(f"/api/v1/submissions/{sub['id']}/override", headers=ta.headers,
                json={"item": "ex2a.derivation", "score": 5, "comment": "steps 1-3 are right"})
    listed = {s["id"]: s["score"] for s in ta_api.get("/api/v1/submissions", headers=alice.headers).json()["submissions"]}
    assert listed == {sub["id"]: 11, other["id"]: 4}
