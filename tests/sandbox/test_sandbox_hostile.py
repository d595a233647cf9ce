"""Hostile jobs: each is contained with a clear message, and the next ordinary job still works
(the `still_works` fixture runs one after every test)."""
from __future__ import annotations

import io
import os
import pickle
import signal
import textwrap

import numpy as np
import pytest
import torch

from graders.engines.sandbox import SandboxUnavailable, client, run_task

from sandbox_helpers import KIT, run_solution

pytestmark = pytest.mark.usefixtures("still_works")
REPO = client.ENGINE_DIR.parents[2]


def test_ordinary_job_returns_numpy_arrays_computed_from_student_code():
    rng = np.random.default_rng(0)
    z, weights = rng.normal(size=(5, 4)).astype(np.float32), rng.normal(size=(3, 4)).astype(np.float32)
    source = """
        import torch
        def cosine_logits(z, W, tau):
            return torch.nn.functional.normalize(z, dim=1) @ torch.nn.functional.normalize(W, dim=1).T / tau
    """
    result = run_task("sbxkit.tasks:cosine_logits", {"z": z, "W": weights, "tau": 0.5},
                      files={"solution.py": textwrap.dedent(source).encode()}, timeout_s=5, kit_root=KIT)
    assert result.ok and result.kind == "ok" and result.error is None
    expected = (z / np.linalg.norm(z, axis=1, keepdims=True)) @ (
        weights / np.linalg.norm(weights, axis=1, keepdims=True)).T / 0.5
    assert isinstance(result.value, np.ndarray) and result.value.dtype == np.float32
    np.testing.assert_allclose(result.value, expected, rtol=1e-5)


def test_job_runs_unprivileged_under_seccomp_in_its_own_pid_namespace():
    result = run_solution("""
        import os
        def main():
            status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
            return {"uid": os.getuid(), "euid": os.geteuid(), "pid": os.getpid(),
                    "pids": sorted(p for p in os.listdir("/proc") if p.isdigit()),
                    "cap": status["CapEff"].strip(), "nnp": status["NoNewPrivs"].strip(),
                    "seccomp": status["Seccomp"].strip(), "fds": sorted(os.listdir("/proc/self/fd"))}
    """)
    assert result.ok, result
    info = result.value
    assert info["uid"] == info["euid"] == client.SandboxConfig().uid != 0
    assert info["pid"] == 1 and info["pids"] == ["1"]  # the zygote and the worker are invisible
    assert info["cap"] == "0000000000000000" and info["nnp"] == "1" and info["seccomp"] == "2"
    assert set(info["fds"]) <= {"0", "1", "2", "3", "4"}  # stdio (/dev/null), result pipe, listdir


def test_reference_repo_files_and_worker_temp_files_are_invisible(tmp_path):
    secret = tmp_path / "other_submission_solution.py"
    secret.write_text("SECRET = 1\n")
    paths = [str(REPO / "reference"), str(REPO / "pyproject.toml"), str(REPO / "graders" / "ex4"),
             str(REPO / ".git" / "config"), str(secret), "/root/.bash_history", "/etc/passwd",
             "/etc/shadow", "/proc/1/environ", "/work/main/reference"]
    result = run_solution("""
        import os
        def main(paths, repo):
            readable = []
            for path in paths:
                try:
                    if os.path.isdir(path):
                        os.listdir(path)
                    else:
                        open(path, "rb").read(1)
                    readable.append(path)
                except OSError:
                    pass
            return {"readable": readable, "work": os.listdir(repo)}
    """, args=[paths, str(REPO)])
    assert result.ok, result
    assert result.value["readable"] == []
    assert result.value["work"] == [".venv"]  # only the interpreter's site-packages is bound


def test_a_job_cannot_see_files_of_an_earlier_job():
    first = run_solution("""
        import os
        def main():
            open(os.path.join(os.environ["TMPDIR"], "left_behind.txt"), "w").write("answers of student A")
            return sorted(os.listdir("/job"))
    """, files={"student_a_weights.safetensors": b"A" * 10})
    assert first.ok and first.value == ["solution.py", "student_a_weights.safetensors"], first
    second = run_solution("""
        import os
        def main():
            found = []
            for d, subdirs, fs in os.walk("/"):
                subdirs[:] = [s for s in subdirs if os.path.join(d, s) not in ("/proc", "/usr", "/work", "/root")]
                found += [os.path.join(d, f) for f in fs if "left_behind" in f or "student_a" in f]
            return {"found": found, "job": sorted(os.listdir("/job"))}
    """)
    assert second.ok, second
    assert second.value == {"found": [], "job": ["solution.py"]}


def test_worker_environment_and_secrets_do_not_reach_the_job(monkeypatch):
    monkeypatch.setenv("AUTOGRADER_TEST_SECRET_TOKEN", "s3cret-token-value")
    client.shutdown()  # the next zygote starts while the secret is in the worker's environment
    result = run_solution("""
        import os
        def main():
            blobs = []
            for path in ("/proc/self/environ", "/proc/1/environ", "/proc/self/cmdline"):
                try:
                    blobs.append(open(path, "rb").read().decode(errors="replace"))
                except OSError as exc:
                    blobs.append(str(exc))
            return {"env": dict(os.environ), "blobs": blobs}
    """)
    assert result.ok, result
    assert "s3cret-token-value" not in repr(result.value)
    assert set(result.value["env"]) <= {"PWD", "PATH", "LANG", "HOME", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE",
                                        "PYTHONNOUSERSITE", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                        "OPENBLAS_NUM_THREADS", "TORCH_NUM_THREADS", "TMPDIR",
                                        "TORCHINDUCTOR_CACHE_DIR"}  # set by torch._dynamo's import in the zygote


@pytest.mark.parametrize("family", ["AF_INET", "AF_UNIX", "AF_INET6"])
def test_sockets_are_refused(family):
    result = run_solution(f"""
        import socket
        def main():
            s = socket.socket(socket.{family}, socket.SOCK_STREAM)
            s.connect(("127.0.0.1", 5432) if "{family}" == "AF_INET" else "/tmp/x")
    """)
    assert result.kind == "error" and "PermissionError" in result.error
    assert "Operation not permitted" in result.error


def test_fork_bomb_is_refused():
    result = run_solution("""
        import os
        def main():
            while True:
                os.fork()
    """)
    assert result.kind == "error" and "PermissionError" in result.error, result


def test_thread_bomb_is_refused():
    result = run_solution("""
        import threading, time
        def main():
            while True:
                threading.Thread(target=time.sleep, args=(100,)).start()
    """)
    assert result.kind == "error" and "can't start new thread" in result.error, result


@pytest.mark.parametrize("allocation", [
    "numpy.ones(50 * 2**30 // 8)",
    "torch.empty(50 * 2**30 // 4)",
    "bytearray(50 * 2**30)",
    "[numpy.ones(2**21) for _ in range(3200)]",  # 3200 x 16 MiB, touched: stops at the budget
])
def test_allocating_50_gb_is_a_memory_error(allocation):
    # a small budget keeps the touched case quick (first-touch faults cost ~5 s/GiB on this VM)
    result = run_solution(f"""
        import numpy, torch
        def main():
            return len({allocation})
    """, timeout_s=10, memory_bytes=128 << 20)
    assert result.kind == "memory" and not result.ok, result


@pytest.mark.parametrize("target", ["/sandbox/tmp/big", "/job/big", "/big", "/dev/shm/big"])
def test_writing_1_gb_fails_early(target):
    result = run_solution(f"""
        def main():
            chunk = b"x" * (1 << 20)
            with open("{target}", "wb") as f:
                for _ in range(1024):
                    f.write(chunk)
    """)
    assert result.kind == "error", result
    assert any(s in result.error for s in ("File too large", "No space left", "Read-only file system",
                                           "Permission denied")), result.error


def test_infinite_loop_is_stopped_at_the_wall_clock():
    result = run_solution("def main():\n    while True:\n        pass\n", timeout_s=1.0)
    assert result.kind == "timeout" and "1 s" in result.error
    assert 900 < result.wall_ms < 5000


def test_sleeping_forever_is_stopped():
    result = run_solution("import time\ndef main():\n    time.sleep(10**9)\n", timeout_s=1.0)
    assert result.kind == "timeout"


@pytest.mark.parametrize("attack", ["os.kill(os.getppid(), signal.SIGKILL)", "os.kill(-1, signal.SIGKILL)",
                                    "os.killpg(0, signal.SIGKILL)", "os.kill(1, signal.SIGKILL)"])
def test_killing_the_parent_only_ends_the_job(attack):
    zygote_before = _zygote_pid()
    result = run_solution(f"""
        import os, signal
        def main():
            {attack}
            return "still here"
    """)
    assert result.kind in ("crash", "ok", "error"), result
    if result.kind == "crash":
        assert "SIGKILL" in result.error
    assert _zygote_pid() == zygote_before  # the zygote survived: no restart was needed


def _zygote_pid() -> int:
    slot = client._pool_for(KIT).free.queue[-1]
    return slot.zygote().process.pid


def test_printing_a_score_or_a_fake_frame_to_stdout_changes_nothing():
    result = run_solution("""
        import os, sys
        def main():
            print("100/100"); print('{"kind": "ok", "value": 100}')
            os.write(1, b"SBXRESULT1" + b"0" * 16 + b"\\x00\\x00\\x00\\x03100")
            sys.stderr.write("score: 100/100\\n")
            return 7
    """)
    assert result.ok and result.value == 7


@pytest.mark.parametrize("then", ["return 7", "os._exit(0)"])
def test_forged_frame_on_the_result_pipe_is_rejected(then):
    result = run_solution(f"""
        import json, os, struct
        def main():
            body = json.dumps({{"kind": "ok", "value": 100}}).encode()
            for fd in range(3, 64):
                try:
                    os.write(fd, b"SBXRESULT1" + os.urandom(16) + struct.pack(">I", len(body)) + body)
                except OSError:
                    pass
            {then}
    """)
    assert result.kind == "output" and not result.ok and result.value is None, result
    assert "discarded" in result.error


def test_flooding_the_result_pipe_is_bounded():
    result = run_solution("""
        import os
        def main():
            chunk = b"\\0" * (1 << 20)
            for _ in range(40):
                os.write(3, chunk)
    """, timeout_s=5)
    assert result.kind == "output" and result.value is None, result


def test_malicious_pickle_in_pt_is_refused_and_never_runs():
    class Payload:
        def __reduce__(self):
            return (os.makedirs, ("/tmp/pwned",))

    buffer = io.BytesIO()
    torch.save({"weight": Payload()}, buffer)
    result = run_task("sbxkit.tasks:load_weights_then_probe", {"file": "evil.pt", "marker": "/tmp/pwned"},
                      files={"evil.pt": buffer.getvalue()}, timeout_s=5, kit_root=KIT)
    assert result.ok, result
    assert result.value["marker_exists"] is False
    assert "Weights only load failed" in result.value["outcome"]
    assert not os.path.exists("/tmp/pwned")


def test_state_dict_pt_and_safetensors_load_inside():
    from safetensors.torch import save

    buffer = io.BytesIO()
    torch.save({"fc.weight": torch.ones(10, 4)}, buffer)
    tensors = save({"conv.weight": torch.zeros(8, 1, 3, 3)})
    for name, data, expected in (("w.pt", buffer.getvalue(), {"fc.weight": [10, 4]}),
                                 ("w.safetensors", tensors, {"conv.weight": [8, 1, 3, 3]})):
        result = run_task("sbxkit.tasks:load_weights", {"file": name}, files={name: data},
                          timeout_s=5, kit_root=KIT)
        assert result.ok and result.value == expected, result


@pytest.mark.parametrize("code", [
    "subprocess.run(['/bin/sh', '-c', 'echo hi'])",
    "os.execv('/bin/sh', ['sh', '-c', 'echo hi'])",
    "os.posix_spawn('/bin/sh', ['sh'], {})",
])
def test_exec_and_subprocess_are_refused(code):
    result = run_solution(f"""
        import os, subprocess
        def main():
            return {code}
    """)
    assert result.kind == "error" and "not permitted" in result.error, result


def test_os_system_cannot_start_a_shell():
    result = run_solution("""
        import os
        def main():
            return [os.system("touch /tmp/ran"), os.path.exists("/tmp/ran")]
    """)
    assert result.ok and result.value == [127 << 8, False], result  # glibc: the spawn failed


def test_syntax_error_in_solution_is_a_readable_error():
    result = run_solution("def main(:\n    return 1\n")
    assert result.kind == "error" and "SyntaxError" in result.error
    assert 'File "solution.py", line 1' in result.error
    _assert_no_host_paths(result.error)


def test_import_error_in_solution_points_at_the_students_line():
    result = run_solution("import os\nimport numpy_but_misspelled\n")
    assert result.kind == "error"
    assert "ModuleNotFoundError: No module named 'numpy_but_misspelled'" in result.error
    assert 'File "solution.py", line 2, in <module>' in result.error
    _assert_no_host_paths(result.error)


def test_runtime_error_traceback_is_trimmed_to_the_students_file():
    result = run_solution("""
        import torch
        def helper(z):
            return z @ torch.ones(3, 2)
        def main():
            return helper(torch.ones(2, 4))
    """)
    assert result.kind == "error" and "RuntimeError" in result.error
    assert 'File "solution.py", line 6, in main' in result.error
    assert 'File "solution.py", line 4, in helper' in result.error
    _assert_no_host_paths(result.error)


def _assert_no_host_paths(message: str) -> None:
    for fragment in ("/work", "/root", "/sandbox", "site-packages", "sbxkit", "tasks.py", "/job"):
        assert fragment not in message, message


def test_bad_file_names_are_refused_before_running():
    result = run_solution("def main():\n    return 1\n", files={"../escape.py": b"x"})
    assert result.kind == "refused" and "not allowed" in result.error


def test_a_dead_zygote_is_replaced():
    os.killpg(_zygote_pid(), signal.SIGKILL)
    client._pool_for(KIT).free.queue[-1].current.process.wait()
    result = run_solution("def main():\n    return 'fresh'\n")
    assert result.ok and result.value == "fresh"


def test_missing_mechanisms_fail_closed(monkeypatch, tmp_path):
    with pytest.raises(SandboxUnavailable, match="does not exist"):
        run_task("sbxkit.tasks:empty", {}, kit_root=tmp_path / "missing")
    monkeypatch.setattr(client.os, "geteuid", lambda: 1000)
    with pytest.raises(SandboxUnavailable, match="root"):
        run_task("sbxkit.tasks:empty", {}, kit_root=tmp_path)


@pytest.mark.parametrize("slots", [1, 2])
def test_jobs_from_many_threads_each_get_their_own_result(slots):
    from concurrent.futures import ThreadPoolExecutor

    previous = client._current_config().slots
    client.configure(slots=slots)
    try:
        with ThreadPoolExecutor(4) as threads:
            results = list(threads.map(
                lambda i: run_solution(f"import os\ndef main():\n    return [{i}, os.getpid()]\n"), range(6)))
    finally:
        client.configure(slots=previous)
    assert [r.value for r in results] == [[i, 1] for i in range(6)], results


def test_frame_with_the_stolen_nonce_still_cannot_break_the_parent():
    # the nonce lives in the job's memory, so a job can forge a well-addressed frame; the parent
    # must still bound what it accepts (here: 100k nested lists, which json alone would choke on)
    result = run_solution("""
        import os, struct, sys
        def main():
            frame = sys._getframe()
            while "header" not in frame.f_locals:
                frame = frame.f_back
            nonce = bytes.fromhex(frame.f_locals["header"]["nonce"])
            body = b'{"kind": "ok", "value": ' + b"[" * 100000 + b"]" * 100000 + b"}"
            os.write(3, b"SBXRESULT1" + nonce + struct.pack(">I", len(body)) + body)
            os._exit(0)
    """)
    assert result.kind == "output" and result.value is None, result


def test_zygote_holds_only_the_capabilities_a_job_needs_before_its_uid_switch():
    root = _zygote_pid()  # the outer bwrap
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = set(), {root}
    while frontier:
        tree |= frontier
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - tree
    caps = set()
    for pid in tree:
        try:
            status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status").read().splitlines())
        except OSError:
            continue
        caps.add(status["CapEff"].strip())
    # CAP_SYS_ADMIN | CAP_SETUID | CAP_SETGID | CAP_KILL in the zygote and its spare; none elsewhere
    assert caps <= {"00000000002000e0", "0000000000000000"} and "00000000002000e0" in caps, caps


def test_a_zygote_that_cannot_start_fails_closed_with_its_error():
    client.configure(env={"PYTHONPATH": "/nonexistent"})
    try:
        with pytest.raises(SandboxUnavailable, match="did not start.*No module named 'graders'"):
            run_solution("def main():\n    return 1\n")
    finally:
        client.configure(env={})
