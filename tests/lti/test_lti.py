"""LTI 1.3 against a fake platform on a localhost port: OIDC login, launch (signature, state,
nonce checked by PyLTI1p3), the tool's JWKS, and AGS score passback on every grade change."""
from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import select

from app.lti.config import LTI_CONFIG_ENV
from app.models import LtiGradeTarget, LtiIdentity, User
from app.policies import POLICIES_FILE_ENV

from tests.scripted import ScriptedGraders

from .platform import SCORE_MEDIA_TYPE, FakePlatform, rsa_pem_pair

LAUNCH_URL = "http://testserver/lti/launch"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


@pytest.fixture
def platform(tmp_path, monkeypatch):
    p = FakePlatform().start()
    private, public = rsa_pem_pair()
    (tmp_path / "tool-private.pem").write_text(private)
    (tmp_path / "tool-public.pem").write_text(public)
    config = tmp_path / "lti.json"
    config.write_text(json.dumps(p.registration("tool-private.pem", "tool-public.pem")))
    monkeypatch.setenv(LTI_CONFIG_ENV, str(config))
    policy = tmp_path / "policies.yaml"
    policy.write_text("defaults: {rate_limit: null}\n")
    monkeypatch.setenv(POLICIES_FILE_ENV, str(policy))
    yield p
    p.stop()


@pytest.fixture
def scripted():
    return ScriptedGraders()


@pytest.fixture
def tool(make_client, settings, platform, scripted):
    client = make_client(settings, grader_for=scripted)
    platform.tool_jwks = client.get("/lti/jwks").json()  # what an admin registers on the platform
    return client


def login(tool, platform, sub: str):
    r = tool.get("/lti/login", params={
        "iss": platform.issuer, "login_hint": sub, "target_link_uri": LAUNCH_URL,
        "client_id": platform.client_id, "lti_message_hint": "resource-7"}, follow_redirects=False)
    assert r.status_code == 302, r.text
    location = urlparse(r.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == platform.url("/auth")
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def launch(tool, platform, sub: str = "lms-user-42", **claims):
    auth = login(tool, platform, sub)
    assert auth["redirect_uri"] == LAUNCH_URL and auth["client_id"] == platform.client_id
    assert auth["response_mode"] == "form_post" and auth["login_hint"] == sub and auth["scope"] == "openid"
    token = platform.id_token(auth["nonce"], sub, **claims)
    return tool.post("/lti/launch", data={"id_token": token, "state": auth["state"]}, follow_redirects=False)


def test_jwks_publishes_the_tool_key(tool, tmp_path):
    keys = tool.get("/lti/jwks").json()["keys"]
    assert len(keys) == 1 and keys[0]["alg"] == "RS256" and keys[0]["use"] == "sig" and keys[0]["kid"]
    assert "d" not in keys[0]  # public part only
    public = RSAAlgorithm.from_jwk(json.dumps(keys[0]))
    token = jwt.encode({"x": 1}, (tmp_path / "tool-private.pem").read_text(), algorithm="RS256")
    assert jwt.decode(token, public, algorithms=["RS256"]) == {"x": 1}


def test_launch_signs_the_student_in_and_every_grade_change_goes_back(tool, platform, add_user, sessions):
    ta = add_user("ta")
    alice = add_user("student", "Alice", email="alice@uni.example")  # on the roster already
    r = launch(tool, platform, "lms-user-42", email="alice@uni.example", exercise="ex2", lineitem=3)
    assert r.status_code == 200, r.text
    assert 'location.replace("/?exercise=ex2")' in r.text
    page = tool.get("/?exercise=ex2")
    assert page.status_code == 200 and "Alice" in page.text and "ex2a.alpha" in page.text
    with sessions() as db:
        identity = db.scalar(select(LtiIdentity))
        assert (identity.iss, identity.sub, identity.user_id) == (platform.issuer, "lms-user-42", alice.id)
        target = db.scalar(select(LtiGradeTarget))
        assert (target.user_id, target.exercise, target.lineitem) == (alice.id, "ex2", platform.lineitem(3))

    # graded → the counted grade goes to the line item
    sub = tool.post("/api/v1/submissions", headers=alice.headers,
                    json={"exercise": "ex2", "answers": {"alpha": "right", "objective": "unsure"}}).json()
    assert tool.get(f"/api/v1/submissions/{sub['id']}?wait=20", headers=alice.headers).json()["status"] == "graded"
    posts = platform.wait_for_scores(1)
    assert len(posts) == 1
    post = posts[0]
    assert post.lineitem == platform.lineitem(3)
    assert post.content_type == SCORE_MEDIA_TYPE and post.authorization.startswith("Bearer ")
    body = post.body
    assert body["userId"] == "lms-user-42" and body["scoreGiven"] == 6 and body["scoreMaximum"] == 20
    assert body["gradingProgress"] == "FullyGraded" and body["activityProgress"] == "Completed"
    assert body["timestamp"].endswith("+00:00")
    # the token request was a client-credentials grant with our signed assertion
    assert platform.token_requests[0]["grant_type"] == "client_credentials"
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in platform.token_requests[0]["scope"]

    # a TA override → the new grade goes back
    tool.post(f"/api/v1/submissions/{sub['id']}/override", headers=ta.headers,
              json={"item": "ex2a.objective", "score": 4, "comment": "correct"})
    assert platform.wait_for_scores(2)[1].body["scoreGiven"] == 8

    # a regrade → once more
    batch = tool.post("/api/v1/regrade", headers=ta.headers, json={"exercise": "ex2"}).json()
    deadline = time.monotonic() + 20
    while not tool.get(f"/api/v1/regrade/{batch['batch_id']}", headers=ta.headers).json()["finished"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert platform.wait_for_scores(3)[2].body["scoreGiven"] == 8
    with sessions() as db:
        target = db.scalar(select(LtiGradeTarget))
        assert target.last_score == 8 and target.last_error is None
    # the TA sees what was sent
    tool.cookies.clear()
    tool.post("/login", data={"token": ta.token})
    page = tool.get(f"/ta/students/{alice.id}").text
    assert 'id="lti-targets"' in page and platform.lineitem(3) in page


def test_new_platform_user_is_created_and_staff_land_on_the_dashboard(tool, platform, sessions):
    r = launch(tool, platform, "new-learner", email="new@uni.example", exercise="ex3")
    assert r.status_code == 200 and "/?exercise=ex3" in r.text
    tool.cookies.clear()
    r = launch(tool, platform, "prof-1", email="prof@uni.example", roles=[INSTRUCTOR])
    assert r.status_code == 200 and 'location.replace("/ta")' in r.text
    assert tool.get("/ta").status_code == 200
    with sessions() as db:
        users = {u.email: u.role for u in db.scalars(select(User))}
        assert users == {"new@uni.example": "student", "prof@uni.example": "ta"}
        # staff grades are not passed back: only the learner has a line item here
        assert [t.exercise for t in db.scalars(select(LtiGradeTarget))] == ["ex3"]


def test_forged_signature_is_refused(tool, platform, sessions):
    auth = login(tool, platform, "mallory")
    forger_key, _ = rsa_pem_pair()
    token = platform.id_token(auth["nonce"], "mallory", signing_key=forger_key)  # same kid, wrong key
    r = tool.post("/lti/launch", data={"id_token": token, "state": auth["state"]}, follow_redirects=False)
    assert r.status_code == 400 and "Signature verification failed" in r.text
    assert "ag_session" not in r.cookies
    with sessions() as db:
        assert db.scalar(select(LtiIdentity)) is None and db.scalar(select(User)) is None


def test_missing_or_foreign_state_is_refused(tool, platform):
    auth = login(tool, platform, "eve")
    token = platform.id_token(auth["nonce"], "eve")
    r = tool.post("/lti/launch", data={"id_token": token}, follow_redirects=False)
    assert r.status_code == 400 and "Missing state" in r.text
    tool.cookies.clear()  # another browser: the state cookie is not there
    r = tool.post("/lti/launch", data={"id_token": token, "state": auth["state"]}, follow_redirects=False)
    assert r.status_code == 400 and "State not found" in r.text


def test_replayed_launch_and_unknown_nonce_are_refused(tool, platform):
    auth = login(tool, platform, "bob")
    token = platform.id_token(auth["nonce"], "bob")
    ok = tool.post("/lti/launch", data={"id_token": token, "state": auth["state"]}, follow_redirects=False)
    assert ok.status_code == 200
    again = tool.post("/lti/launch", data={"id_token": token, "state": auth["state"]}, follow_redirects=False)
    assert again.status_code == 400 and "Nonce" in again.text
    auth = login(tool, platform, "bob")
    made_up = platform.id_token("a-nonce-we-never-issued", "bob")
    r = tool.post("/lti/launch", data={"id_token": made_up, "state": auth["state"]}, follow_redirects=False)
    assert r.status_code == 400


def test_unregistered_issuer_and_unconfigured_tool(tool, platform, monkeypatch):
    r = tool.get("/lti/login", params={"iss": "https://elsewhere.example", "login_hint": "x",
                                       "target_link_uri": LAUNCH_URL}, follow_redirects=False)
    assert r.status_code == 400
    monkeypatch.delenv(LTI_CONFIG_ENV)
    assert tool.get("/lti/login", params={"iss": platform.issuer}).status_code == 404
    assert tool.get("/lti/jwks").status_code == 404
