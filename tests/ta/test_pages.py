"""The server-rendered pages over HTTP: token login into a session cookie, CSRF on every
state-changing form, the student's submit and result pages, the TA dashboard pages."""
import json
import re
import xml.etree.ElementTree as ET


def log_in(api, account) -> str:
    """Log in through the form; returns the session's CSRF token from the next page."""
    r = api.post("/login", data={"token": account.token, "next": ""}, follow_redirects=False)
    assert r.status_code == 303, r.text
    cookie = r.headers["set-cookie"]
    assert "ag_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = api.get(r.headers["location"])
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def test_pages_need_a_session_and_a_valid_token(ta_api, add_user):
    assert ta_api.get("/", follow_redirects=False).status_code == 303
    r = ta_api.get("/ta/review", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fta%2Freview"
    bad = ta_api.post("/login", data={"token": "ag_nope"}, follow_redirects=False)
    assert bad.status_code == 401 and "not valid" in bad.text
    # a login never redirects off-site
    alice = add_user("student")
    r = ta_api.post("/login", data={"token": alice.token, "next": "//evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/"
    # the API still wants the bearer header, not the cookie
    assert ta_api.get("/api/v1/grades/me").status_code == 401


def test_student_submits_from_the_page_and_reads_the_grade(ta_api, add_user):
    alice = add_user("student", "alice")
    csrf = log_in(ta_api, alice)
    page = ta_api.get("/?exercise=ex3").text
    assert 'data-field="applications" data-type="text_list"' in page and "ex3c.applications" in page
    assert 'type="file"' not in page
    assert 'type="file"' in ta_api.get("/?exercise=ex4").text  # ex4 takes uploads

    form = {"exercise": "ex2", "answers": json.dumps({"alpha": "right", "objective": "unsure"})}
    no_csrf = ta_api.post("/my/submissions", files={k: (None, v) for k, v in form.items()})
    assert no_csrf.status_code == 403
    r = ta_api.post("/my/submissions", files={k: (None, v) for k, v in form.items()},
                    headers={"X-CSRF-Token": csrf, "Idempotency-Key": "page-1"})
    assert r.status_code == 202, r.text
    url = r.json()["url"]
    status = ta_api.get(f"{url}/status", params={"wait": 20}).json()
    assert status["status"] == "graded" and status["score"] == 6
    result = ta_api.get(url).text
    assert "6 / 20" in result and "Partly right; a TA will check." in result
    # the same form sent again (a double click) is the same submission
    again = ta_api.post("/my/submissions", files={k: (None, v) for k, v in form.items()},
                        headers={"X-CSRF-Token": csrf, "Idempotency-Key": "page-1"})
    assert again.json()["url"] == url
    # bad answers are refused with the API's message
    bad = ta_api.post("/my/submissions", files={"exercise": (None, "ex2"), "answers": (None, '{"bogus": 1}')},
                      headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 422 and "bogus" in bad.json()["detail"]


def test_ta_dashboard_histograms_review_and_overrides(ta_api, add_user, submit):
    ta, alice = add_user("ta", "Tess"), add_user("student", "alice", email="alice@uni.example")
    add_user("student", "bob", email="bob@uni.example")
    sub = submit(ta_api, alice, {"alpha": "right", "objective": "unsure"})
    student_csrf = log_in(ta_api, alice)
    assert ta_api.get("/ta").status_code == 403  # students do not see the dashboard
    ta_api.post("/logout", data={"csrf": student_csrf})
    csrf = log_in(ta_api, ta)

    dash = ta_api.get("/ta").text
    assert re.search(r'<a href="/ta/exercises/ex2">ex2</a></td>\s*<td class="num">1</td>', dash)
    page = ta_api.get("/ta/exercises/ex2").text
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(svgs) == 4  # three items and the total
    bars = ET.fromstring(svgs[2]).findall("{http://www.w3.org/2000/svg}rect")  # ex2a.alpha: 4 of 4
    assert [int(b.get("data-count")) for b in bars][-1] == 1
    assert "bob" in page and 'id="missing-list"' in page  # on the roster, no submission

    review = ta_api.get("/ta/review").text
    assert "ex2a.objective" in review and "alice" in review
    stale = ta_api.post("/ta/override", data={"csrf": "forged", "submission_id": sub["id"], "item": "ex2a.objective",
                                               "action": "override", "score": "4", "comment": "x"})
    assert stale.status_code == 403
    r = ta_api.post("/ta/override", data={"csrf": csrf, "submission_id": sub["id"], "item": "ex2a.objective",
                                           "action": "override", "score": "3.5", "comment": "nearly there",
                                           "next": "/ta/review"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/ta/review?message=")
    assert 'id="empty-queue"' in ta_api.get(r.headers["location"]).text
    student_page = ta_api.get(f"/ta/students/{alice.id}").text
    assert "nearly there" in student_page and "7.5" in student_page
    assert "nearly there" in ta_api.get("/ta/audit").text

    r = ta_api.post("/ta/regrade", data={"csrf": csrf, "exercise": "ex2"}, follow_redirects=False)
    assert r.status_code == 303 and "Regrade" in ta_api.get(r.headers["location"]).text


def test_downloads_from_the_pages_use_the_session(ta_api, add_user, submit):
    ta, alice = add_user("ta"), add_user("student", "alice", email="alice@uni.example")
    submit(ta_api, alice, {"alpha": "right"})
    log_in(ta_api, alice)
    kit = ta_api.get("/my/starter/ex4")
    assert kit.status_code == 200 and kit.headers["content-type"] == "application/zip"
    assert ta_api.get("/ta/grades.csv").status_code == 403
    log_in(ta_api, ta)
    csv_text = ta_api.get("/ta/grades.csv").text
    assert csv_text.startswith("Email address,") and "alice@uni.example,,alice,,4," in csv_text
