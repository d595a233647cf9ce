"""The pages in a real browser: headless Chromium (Playwright) against a real uvicorn server
on a free localhost port, with the real graders. A student submits ex2 through the page and
sees the grade arrive; a TA opens the dashboard and the histograms render. Screenshots go to
test-artifacts/browser/ (printed at the end of each test)."""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright

from app.main import create_app
from app.policies import POLICIES_FILE_ENV
from app.settings import Settings

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def start_server(sqlite_url, tmp_path, monkeypatch):
    """The service as `autograder serve` runs it: uvicorn and in-process workers, with the
    real graders unless a test passes others. Returns the base URL."""
    policy = tmp_path / "policies.yaml"
    policy.write_text("defaults: {rate_limit: null}\n")
    monkeypatch.setenv(POLICIES_FILE_ENV, str(policy))
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(grader_for=None) -> str:
        settings = Settings(database_url=sqlite_url, data_dir=tmp_path / "data", redis_url=None, warm_up=False,
                            worker_threads=2, worker_poll_ms=50)
        app = create_app(settings, **({"grader_for": grader_for} if grader_for else {}))
        port = free_port()
        srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=srv.run, daemon=True)
        thread.start()
        servers.append((srv, thread))
        deadline = time.monotonic() + 20
        while not srv.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    yield start
    for srv, thread in servers:
        srv.should_exit = True
        thread.join(10)


@pytest.fixture
def server(start_server) -> str:
    return start_server()


@pytest.fixture
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: Page, base: str, token: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")


def test_student_submits_on_the_page_and_sees_the_grade(server, browser, add_user_sqlite):
    alice = add_user_sqlite("student", "Alice Student")
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    log_in(page, server, alice.token)
    expect(page.locator("header .who")).to_contain_text("Alice Student")
    page.goto(f"{server}/?exercise=ex2")
    page.fill("[data-field=alpha]", "1")
    page.fill("[data-field=objective]", "u^T S u")
    page.fill("[data-field=derivation]", "J = 1/N sum_i ||x_i - w w^T x_i||^2\n= nonsense")
    shot(page, "student-form")
    page.click("#submit-form button[type=submit]")
    page.wait_for_url("**/my/submissions/**")
    expect(page.locator("#status")).to_have_text("graded", timeout=30_000)
    expect(page.locator("#total")).to_contain_text("/ 20")
    alpha = page.locator("tr.item[data-item='ex2a.alpha']")
    expect(alpha.locator("td.score")).to_contain_text("4 / 4")
    expect(page.locator("tr.item[data-item='ex2a.objective'] td.score")).to_contain_text("4 / 4")
    # the engine's echo "Read as $u^\top \cdot S \cdot u$" shows as MathML, not as LaTeX source
    objective = page.locator("tr.item[data-item='ex2a.objective'] .feedback")
    expect(objective.locator("math")).to_be_visible()
    expect(objective.locator("math mi", has_text="S")).to_be_visible()
    expect(objective).not_to_contain_text("$")
    expect(objective).not_to_contain_text("\\cdot")
    box = objective.locator("math").bounding_box()
    assert box and box["width"] > 20 and box["height"] > 8
    derivation = page.locator("tr.item[data-item='ex2a.derivation'] .feedback")
    expect(derivation.locator("math mfrac").first).to_be_visible()  # the 1/N of line 1
    print("screenshot:", shot(page, "student-graded"))
    # the grade also shows on the exercise page
    page.goto(f"{server}/?exercise=ex2")
    expect(page.locator("text=Your grades")).to_be_visible()


def test_ta_dashboard_renders_tables_and_histograms(server, browser, add_user_sqlite):
    import httpx

    ta = add_user_sqlite("ta", "Tess TA")
    students = [add_user_sqlite("student", f"Student {i}", email=f"s{i}@uni.example") for i in range(4)]
    answers = [{"alpha": "1", "objective": "u^T S u"}, {"alpha": "1"}, {"alpha": "2"}]
    with httpx.Client(base_url=server, timeout=30) as http:
        ids = [http.post("/api/v1/submissions", headers=s.headers, json={"exercise": "ex2", "answers": a}).json()["id"]
               for s, a in zip(students, answers)]  # the fourth student submits nothing
        for sid, s in zip(ids, students):
            assert http.get(f"/api/v1/submissions/{sid}", params={"wait": 30}, headers=s.headers).json()["status"] == "graded"

    page = browser.new_page(viewport={"width": 1200, "height": 900})
    log_in(page, server, ta.token)
    page.wait_for_url(f"{server}/ta")
    row = page.locator("#exercise-table tr", has_text="ex2")
    expect(row.locator("td").nth(1)).to_have_text("3")  # three students graded
    expect(row.locator("td").nth(4)).to_have_text("8")  # max
    print("screenshot:", shot(page, "ta-dashboard"))

    page.click("text=ex2")
    page.wait_for_url("**/ta/exercises/ex2")
    alpha = page.locator("figure[data-item='ex2a.alpha'] svg.histogram")
    expect(alpha).to_be_visible()
    heights = alpha.locator("rect.bar").evaluate_all("bars => bars.map(b => b.getBoundingClientRect().height)")
    counts = alpha.locator("rect.bar").evaluate_all("bars => bars.map(b => Number(b.dataset.count))")
    assert counts[0] == 1 and counts[-1] == 2 and sum(counts) == 3  # one 0, two full marks
    assert heights[-1] > heights[0] > 0 and heights[1] == 0
    expect(page.locator("#missing-list")).to_contain_text("Student 3")
    print("screenshot:", shot(page, "ta-exercise-ex2"))

    page.goto(f"{server}/ta/students/{students[0].id}")
    expect(page.locator(".attempt .feedback math").first).to_be_visible()  # the grader's echo as MathML
    print("screenshot:", shot(page, "ta-student"))


def test_ex4_uploads_from_the_page_arrive_under_the_names_the_exercise_accepts(start_server, browser,
                                                                              add_user_sqlite, tmp_path):
    from tests.scripted import ScriptedGraders

    base = start_server(ScriptedGraders())
    alice = add_user_sqlite("student", "Alice Student")
    (tmp_path / "my attempt.py").write_text("def cosine_logits(z, W, tau):\n    return z\n")
    (tmp_path / "model-final.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    log_in(page, base, alice.token)
    page.goto(f"{base}/?exercise=ex4")
    page.set_input_files("input[id='file.solution']", str(tmp_path / "my attempt.py"))
    page.set_input_files("input[id='file.cosine_cnn']", str(tmp_path / "model-final.safetensors"))
    page.click("#submit-form button[type=submit]")
    page.wait_for_url("**/my/submissions/**")
    expect(page.locator("#status")).to_have_text("graded", timeout=30_000)
    expect(page.locator("tr.item[data-item='ex4a.cosine_logits']")).to_contain_text("received solution.py")
    expect(page.locator("tr.item[data-item='ex4c.accuracy']")).to_contain_text("received cosine_cnn.safetensors")
    expect(page.locator("tr.item[data-item='ex4d.reconstruction']")).to_contain_text("file missing")
    print("screenshot:", shot(page, "student-ex4-uploads"))
