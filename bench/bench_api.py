"""Service overhead: one ex2 submission through the HTTP API (POST, then GET ?wait until graded;
SQLite, in-process workers) against the same answer graded by calling the grader directly,
same process, same run. Every answer is distinct (`+ k - k`) so no cache hides the work.
Also a burst: N submissions at once, then waiting for all (throughput vs direct, sequential).

    .venv/bin/python bench/bench_api.py [--runs 40] [--burst 40]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402

import graders  # noqa: E402
from app.auth import create_user  # noqa: E402
from app.db import migrate  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import Role  # noqa: E402
from app.settings import Settings  # noqa: E402


def answer(k: int) -> dict:
    return {"exercise": "ex2", "answers": {"alpha": f"1 + {k} - {k}", "objective": f"u^T S u + {k} - {k}"}}


def summary(name: str, seconds: list[float]) -> float:
    ms = sorted(s * 1000 for s in seconds)
    median = statistics.median(ms)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    print(f"{name:<28} median {median:8.2f} ms   p95 {p95:8.2f} ms   (n={len(ms)})")
    return median


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--burst", type=int, default=40)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-api-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    migrate(url)
    settings = Settings(database_url=url, data_dir=folder / "data", redis_url=None, warm_up=False, worker_threads=2)
    app = create_app(settings)
    services = app.state.services
    with services.sessions() as db:
        _, token = create_user(db, "bench", Role.ta)  # TAs are exempt from the rate limits
        db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    grader = graders.grader("ex2")
    grader.grade(answer(-1)["answers"])  # build the checkers outside the timings

    direct, service = [], []
    with TestClient(app) as client:
        client.post("/api/v1/submissions", headers=headers, json=answer(-2))  # first-request costs
        for k in range(args.runs):
            start = time.perf_counter()
            grader.grade(answer(k)["answers"])
            direct.append(time.perf_counter() - start)
        for k in range(args.runs):
            start = time.perf_counter()
            sid = client.post("/api/v1/submissions", headers=headers, json=answer(1000 + k)).json()["id"]
            done = client.get(f"/api/v1/submissions/{sid}", params={"wait": 30}, headers=headers).json()
            service.append(time.perf_counter() - start)
            assert done["status"] == "graded", done

        start = time.perf_counter()
        ids = [client.post("/api/v1/submissions", headers=headers, json=answer(5000 + k)).json()["id"]
               for k in range(args.burst)]
        for sid in ids:
            assert client.get(f"/api/v1/submissions/{sid}", params={"wait": 30}, headers=headers).json()["status"] == "graded"
        burst = time.perf_counter() - start

    d = summary("direct grader.grade", direct)
    s = summary("HTTP submit -> graded", service)
    print(f"{'ratio service/direct':<28} {s / d:8.2f}x   overhead {s - d:.2f} ms per submission")
    direct_rate = len(direct) / sum(direct)
    print(f"burst of {args.burst}: {args.burst / burst:.1f} graded/s through HTTP "
          f"({settings.worker_threads} worker threads) vs {direct_rate:.1f}/s direct on one thread")


if __name__ == "__main__":
    main()
