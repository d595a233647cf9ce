"""The command line around the service: `autograder serve` (first start prints a TA token and
keeps it in DATA_DIR/ta-token) and `autograder users add` (prints only the token)."""
from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

AUTOGRADER = str(Path(sys.executable).parent / "autograder")


def run_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([AUTOGRADER, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def cli_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGRADER_")}
    env.update(AUTOGRADER_DATABASE_URL=f"sqlite:///{tmp_path / 'ag.db'}", AUTOGRADER_DATA_DIR=str(tmp_path / "data"),
               AUTOGRADER_WARM_UP="false")
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_prints_a_ta_token_on_first_start_only(cli_env, tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"

    def serve() -> subprocess.Popen:
        return subprocess.Popen([AUTOGRADER, "serve", "--port", str(port)], env=cli_env,
                                stdout=subprocess.DEVNULL, stderr=log.open("w"))

    def wait_healthy() -> None:
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(log.read_text())

    server = serve()
    try:
        wait_healthy()
        token_file = tmp_path / "data" / "ta-token"
        token = token_file.read_text().strip()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert token in log.read_text() and "users add --role ta" in log.read_text()
        r = httpx.post(f"http://127.0.0.1:{port}/api/v1/roster", headers={"Authorization": f"Bearer {token}"},
                       json={"students": [{"name": "Ada", "email": "ada@example.org"}]})
        assert r.status_code == 200 and r.json()["created"][0]["token"]
    finally:
        server.terminate()
        server.wait(30)  # uvicorn shuts down cleanly, then re-raises SIGTERM as its exit status
    assert "Application shutdown complete" in log.read_text()
    server = serve()  # second start: a TA exists, no new token
    try:
        wait_healthy()
        assert "First start" not in log.read_text()
    finally:
        server.terminate()
        server.wait(30)


def test_users_add_prints_only_a_working_token(cli_env):
    from app.auth import hash_token, user_for_token
    from app.db import make_engine, make_sessionmaker

    first = run_cli(cli_env, "users", "add", "--role", "ta", "Grace")
    assert first.returncode == 0, first.stderr
    token = first.stdout.strip()
    assert token.startswith("ag_") and "\n" not in token and "added ta 'Grace'" in first.stderr
    again = run_cli(cli_env, "users", "add", "--role", "ta", "Grace")
    new_token = again.stdout.strip()
    assert new_token != token and "old one no longer works" in again.stderr
    engine = make_engine(cli_env["AUTOGRADER_DATABASE_URL"])
    with make_sessionmaker(engine)() as db:
        assert user_for_token(db, token) is None
        user = user_for_token(db, new_token)
        assert (user.name, user.role, user.token_hash) == ("Grace", "ta", hash_token(new_token))
    engine.dispose()
    bad = run_cli(cli_env, "users", "add", "--role", "admin", "Eve")
    assert bad.returncode == 2 and "unknown role" in bad.stderr and bad.stdout == ""
