"""Exports for the LMS: the Moodle CSV, Gradescope's results.json, and an idempotent roster."""
import csv
import io


def test_grades_csv_for_moodle(ta_api, add_user, submit):
    ta, lms = add_user("ta"), add_user("lms")
    alice = add_user("student", "Alice A", email="alice@uni.example", external_id="1001")
    add_user("student", "Bob B", email="bob@uni.example")  # on the roster, nothing submitted
    sub = submit(ta_api, alice, {"alpha": "right", "objective": "unsure"})  # 4 + 2
    submit(ta_api, alice, {"input": "right", "target": "right"}, exercise="ex3")  # 3
    ta_api.post(f"/api/v1/submissions/{sub['id']}/override", headers=ta.headers,
                json={"item": "ex2a.objective", "score": 3.5, "comment": "nearly"})

    r = ta_api.get("/api/v1/grades.csv", headers=lms.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == ["Email address", "ID number", "Full name", "ex1", "ex2", "ex3", "ex4", "Total"]
    by_email = {row["Email address"]: row for row in rows}
    assert by_email["alice@uni.example"] == {
        "Email address": "alice@uni.example", "ID number": "1001", "Full name": "Alice A",
        "ex1": "", "ex2": "7.5", "ex3": "3", "ex4": "", "Total": "10.5"}
    assert by_email["bob@uni.example"]["Total"] == "0" and by_email["bob@uni.example"]["ex2"] == ""
    assert ta_api.get("/api/v1/grades.csv", headers=ta.headers).status_code == 200
    assert ta_api.get("/api/v1/grades.csv", headers=alice.headers).status_code == 403
    assert ta_api.get("/api/v1/grades.csv").status_code == 401


def test_results_json_in_gradescope_shape(ta_api, add_user, submit):
    ta, alice, bob = add_user("ta"), add_user("student"), add_user("student")
    sub = submit(ta_api, alice, {"alpha": "right", "objective": "wrong"})
    ta_api.post(f"/api/v1/submissions/{sub['id']}/override", headers=ta.headers,
                json={"item": "ex2a.objective", "score": 1, "comment": "right idea"})
    r = ta_api.get(f"/api/v1/submissions/{sub['id']}/results.json", headers=alice.headers)
    assert r.status_code == 200
    doc = r.json()
    assert doc["score"] == 5 and doc["visibility"] == "visible"
    tests = {t["number"]: t for t in doc["tests"]}
    assert list(tests) == ["ex2a.derivation", "ex2a.objective", "ex2a.alpha"]
    for t in doc["tests"]:
        assert set(t) == {"name", "number", "score", "max_score", "output", "visibility"}
    assert tests["ex2a.alpha"]["score"] == 4 and tests["ex2a.alpha"]["max_score"] == 4
    assert tests["ex2a.objective"]["score"] == 1 and "TA: right idea" in tests["ex2a.objective"]["output"]
    assert ta_api.get(f"/api/v1/submissions/{sub['id']}/results.json", headers=ta.headers).status_code == 200
    assert ta_api.get(f"/api/v1/submissions/{sub['id']}/results.json", headers=bob.headers).status_code == 404


def test_roster_is_idempotent_for_the_lms(ta_api, add_user):
    lms = add_user("lms")
    body = {"students": [{"name": "Ada", "email": "ada@uni.example", "external_id": "u-1"},
                         {"name": "Grace", "external_id": "u-2"}]}
    first = ta_api.post("/api/v1/roster", headers=lms.headers, json=body)
    assert first.status_code == 200, first.text
    assert len(first.json()["created"]) == 2 and all(e["token"] for e in first.json()["created"])
    again = ta_api.post("/api/v1/roster", headers=lms.headers, json=body)
    assert again.status_code == 200
    assert again.json()["created"] == [] and len(again.json()["existing"]) == 2
    assert all(e["token"] is None for e in again.json()["existing"])
    # the tokens handed out the first time still work
    token = first.json()["created"][0]["token"]
    assert ta_api.get("/api/v1/grades/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert len(ta_api.get("/api/v1/grades", headers=lms.headers).json()["students"]) == 2
