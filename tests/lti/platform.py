"""A fake LTI 1.3 platform (an LMS) for the tests, served by uvicorn on a localhost port:
its own RSA key and JWKS, an OAuth2 client-credentials token endpoint that checks the tool's
signed assertion against the tool's JWKS, and an AGS line item whose /scores it records."""
from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rsa_pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


@dataclass
class ScorePost:
    lineitem: str
    content_type: str
    authorization: str
    body: dict[str, Any]


@dataclass
class FakePlatform:
    tool_jwks: dict[str, Any] = field(default_factory=dict)  # the tool's /lti/jwks, as registered
    client_id: str = "tool-client-1"
    deployment_id: str = "deploy-1"
    port: int = field(default_factory=free_port)
    kid: str = "platform-key-1"
    scores: list[ScorePost] = field(default_factory=list)
    issued_tokens: set[str] = field(default_factory=set)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.private_pem, self.public_pem = rsa_pem_pair()
        self._server: uvicorn.Server | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.issuer + path

    def lineitem(self, n: int) -> str:
        return self.url(f"/courses/7/lineitems/{n}/lineitem")

    # --- what the tool's config says about us ---------------------------------------
    def registration(self, private_key_file: str, public_key_file: str) -> dict[str, Any]:
        return {
            self.issuer: [{
                "default": True,
                "client_id": self.client_id,
                "auth_login_url": self.url("/auth"),
                "auth_token_url": self.url("/token"),
                "key_set_url": self.url("/jwks"),
                "deployment_ids": [self.deployment_id],
                "private_key_file": private_key_file,
                "public_key_file": public_key_file,
            }]
        }

    # --- what a platform signs ----------------------------------------------------------
    def id_token(self, nonce: str, sub: str, *, exercise: str = "ex2", lineitem: int = 1,
                 roles: list[str] | None = None, email: str | None = None,
                 signing_key: str | None = None, **extra: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": f"Student {sub}",
            "email": email or f"{sub}@uni.example",
            "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
            "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
            "https://purl.imsglobal.org/spec/lti/claim/deployment_id": self.deployment_id,
            "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": "http://tool/lti/launch",
            "https://purl.imsglobal.org/spec/lti/claim/resource_link": {"id": f"rl-{exercise}"},
            "https://purl.imsglobal.org/spec/lti/claim/roles": roles
            or ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            "https://purl.imsglobal.org/spec/lti/claim/custom": {"exercise": exercise},
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                "scope": AGS_SCOPES,
                "lineitems": self.url("/courses/7/lineitems"),
                "lineitem": self.lineitem(lineitem),
            },
            **extra,
        }
        return jwt.encode(claims, signing_key or self.private_pem, algorithm="RS256",
                          headers={"kid": self.kid})

    # --- the endpoints -------------------------------------------------------------------
    def _app(self) -> Starlette:
        async def jwks(_: Request) -> Response:
            key = json.loads(RSAAlgorithm.to_jwk(
                serialization.load_pem_public_key(self.public_pem.encode())))
            key.update(kid=self.kid, alg="RS256", use="sig")
            return JSONResponse({"keys": [key]})

        async def token(request: Request) -> Response:
            form = dict(await request.form())
            self.token_requests.append(form)
            assertion = form.get("client_assertion", "")
            try:
                header = jwt.get_unverified_header(assertion)
                key = next(k for k in self.tool_jwks["keys"] if k["kid"] == header["kid"])
                claims = jwt.decode(assertion, RSAAlgorithm.from_jwk(json.dumps(key)),
                                    algorithms=["RS256"], audience=self.url("/token"))
            except Exception as exc:  # any failure is a refused client, as on a real platform
                return JSONResponse({"error": "invalid_client", "detail": str(exc)}, 401)
            if claims["iss"] != self.client_id or form.get("grant_type") != "client_credentials":
                return JSONResponse({"error": "invalid_client"}, 401)
            access = uuid.uuid4().hex
            self.issued_tokens.add(access)
            return JSONResponse({"access_token": access, "token_type": "Bearer",
                                 "expires_in": 3600, "scope": form.get("scope", "")})

        async def scores(request: Request) -> Response:
            auth = request.headers.get("authorization", "")
            if auth.removeprefix("Bearer ") not in self.issued_tokens:
                return JSONResponse({"error": "unauthorized"}, 401)
            self.scores.append(ScorePost(
                lineitem=str(request.url).removesuffix("/scores"),
                content_type=request.headers.get("content-type", ""),
                authorization=auth,
                body=json.loads(await request.body()),
            ))
            return Response(status_code=204)

        return Starlette(routes=[
            Route("/jwks", jwks),
            Route("/token", token, methods=["POST"]),
            Route("/courses/7/lineitems/{n}/lineitem/scores", scores, methods=["POST"]),
        ])

    def start(self) -> "FakePlatform":
        config = uvicorn.Config(self._app(), host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, daemon=True).start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake platform did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True

    def wait_for_scores(self, n: int, timeout: float = 10) -> list[ScorePost]:
        deadline = time.monotonic() + timeout
        while len(self.scores) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.scores
