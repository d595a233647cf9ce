"""The zygote: a long-lived process inside bubblewrap that imports torch once and forks jobs.

Started by the worker with a clean environment (never a fork of the worker, so its memory holds
no secrets), it reads requests from its stdin and answers on its stdout. It keeps one spare:
a forked child that has already entered new pid/mount/net/ipc/uts namespaces and forked the job
process (pid 1 there), so a request only has to be written to a pipe. The zygote enforces the
wall clock (SIGKILL to the job's pid 1 takes down its whole namespace) and relays the job's raw
result bytes, bounded, to the worker, which alone decides what they mean.

    python -m graders.engines.sandbox.zygote SETTINGS_JSON
"""
from __future__ import annotations

import importlib
import json
import os
import select
import signal
import sys
import threading
import time
from typing import Any, NoReturn

from . import job
from .protocol import ProtocolError, receive_message, send_message, write_all

READ_CHUNK = 1 << 16
KILL_GRACE_S = 5.0


def preload(modules: list[str]) -> None:
    """torch and numpy in, single-threaded and warmed up, before the first fork: forking after
    a multithreaded OpenMP start deadlocks, and torch's first large op reads cpuinfo."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    images = torch.randn(16, 1, 8, 8, requires_grad=True)
    features = torch.nn.Conv2d(1, 4, 3)(images).flatten(1)
    logits = torch.nn.functional.normalize(features, dim=1) @ torch.randn(144, 10)
    logits.logsumexp(1).sum().backward()
    _ = torch.randn(512, 512) @ torch.randn(512, 512)
    _ = np.ones((256, 256)) @ np.ones((256, 256))
    try:
        import safetensors.torch  # noqa: F401 - so jobs load weights without import cost
    except ImportError:
        pass
    from . import seccomp_policy  # noqa: F401 - loads libseccomp now (find_library runs ldconfig)

    for name in modules:
        importlib.import_module(name)
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1 or threading.active_count() != 1:
        raise RuntimeError(f"zygote has {threads} threads after preload; forking it is unsafe")


def _close_all_except(keep: set[int]) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


class Spare:
    """A forked child in fresh namespaces whose job process waits for a request."""

    def __init__(self, settings: dict[str, Any]):
        job_r, self.job_w = os.pipe()
        self.setup_r, setup_w = os.pipe()
        self.result_r, result_w = os.pipe()
        self.status_r, status_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            _close_all_except({job_r, setup_w, result_w, status_w})
            _spare_main(job_r, setup_w, result_w, status_w, settings)
        for fd in (job_r, setup_w, result_w, status_w):
            os.close(fd)

    def discard(self) -> None:
        for fd in (self.job_w, self.setup_r, self.result_r, self.status_r):
            if fd >= 0:
                os.close(fd)
        self.job_w = self.setup_r = self.result_r = self.status_r = -1
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def _spare_main(job_r: int, setup_w: int, result_w: int, status_w: int,
                settings: dict[str, Any]) -> NoReturn:
    try:
        job.prctl(job.PR_SET_PDEATHSIG, signal.SIGKILL)
        job.unshare(job.JOB_NAMESPACES)
        pid = os.fork()
        if pid == 0:
            os.close(status_w)
            job.job_main(job_r, setup_w, result_w, settings)
        for fd in (job_r, setup_w, result_w):
            os.close(fd)
        write_all(status_w, f"{pid}\n".encode())
        _, status = os.waitpid(pid, 0)
        write_all(status_w, f"{status}\n".encode())
    except BaseException as exc:  # noqa: BLE001 - reported as a setup failure
        try:
            write_all(setup_w, f"spare setup failed: {exc!r}".encode())
        except OSError:
            pass
        os._exit(71)
    os._exit(0)


class Zygote:
    def __init__(self, settings: dict[str, Any]):
        self.settings = settings
        self.spare: Spare | None = Spare(settings)
        self.loaded: set[str] = set()

    def serve(self, ctl_in: int, ctl_out: int) -> None:
        while True:
            try:
                header, blobs = receive_message(ctl_in)
            except ProtocolError:
                break  # the worker went away
            reply, result = self.run(header, blobs)
            send_message(ctl_out, reply, [result])
            self._load_task_module(header["task"])
            if self.spare is None:
                self.spare = Spare(self.settings)
        if self.spare is not None:
            self.spare.discard()

    def _load_task_module(self, task: str) -> None:
        """Import the kit's task module here (trusted code) so later spares inherit it."""
        module = task.split(":")[0]
        if module in self.loaded:
            return
        self.loaded.add(module)
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - the job reports the import error itself
            pass

    def run(self, header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], bytes]:
        spare = self.spare or Spare(self.settings)
        self.spare = None
        try:
            send_message(spare.job_w, header, blobs)
        except OSError as exc:
            spare.discard()
            return {"setup_error": f"the job process did not take the request: {exc}"}, b""
        os.close(spare.job_w)
        spare.job_w = -1
        try:
            return self._watch(spare, float(header["timeout_s"]))
        finally:
            spare.discard()

    def _watch(self, spare: Spare, timeout_s: float) -> tuple[dict[str, Any], bytes]:
        started = time.monotonic()
        deadline = started + timeout_s
        limit = int(self.settings["max_result_bytes"]) + 64
        buffers = {spare.setup_r: bytearray(), spare.result_r: bytearray(), spare.status_r: bytearray()}
        open_fds = set(buffers)
        overflow = timed_out = False
        job_pid: int | None = None
        while open_fds:
            now = time.monotonic()
            if now >= deadline and not timed_out:
                timed_out = True
                os.kill(job_pid or spare.pid, signal.SIGKILL)  # pid 1 of the job's namespace
                deadline = now + KILL_GRACE_S
            elif now >= deadline:
                os.kill(spare.pid, signal.SIGKILL)
                break
            ready, _, _ = select.select(list(open_fds), [], [], deadline - now)
            for fd in ready:
                data = os.read(fd, READ_CHUNK)
                if not data:
                    open_fds.discard(fd)
                elif len(buffers[fd]) + len(data) > (limit if fd == spare.result_r else 65536):
                    overflow = True  # keep draining so the job cannot block on a full pipe
                else:
                    buffers[fd] += data
            lines = bytes(buffers[spare.status_r]).split(b"\n")
            if job_pid is None and len(lines) > 1 and lines[0].isdigit():
                job_pid = int(lines[0])
        elapsed_ms = (time.monotonic() - started) * 1000
        lines = bytes(buffers[spare.status_r]).split(b"\n")
        status = int(lines[1]) if len(lines) > 2 and lines[1].lstrip(b"-").isdigit() else None
        setup = bytes(buffers[spare.setup_r])
        reply: dict[str, Any] = {"timed_out": timed_out, "overflow": overflow, "job_ms": elapsed_ms,
                                 "exit_code": None, "signal": None, "setup_error": None}
        if status is not None and os.WIFEXITED(status):
            reply["exit_code"] = os.WEXITSTATUS(status)
        elif status is not None and os.WIFSIGNALED(status):
            reply["signal"] = os.WTERMSIG(status)
        if setup != b"OK" and not timed_out:
            reply["setup_error"] = setup.decode(errors="replace") or f"job ended during setup ({reply})"
        return reply, bytes(buffers[spare.result_r])


def main() -> int:
    settings = json.loads(sys.argv[1])
    # the protocol gets private copies of stdin/stdout; stray prints go to /dev/null
    ctl_in, ctl_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    try:
        preload(settings["preload"])
        zygote = Zygote(settings)
    except BaseException as exc:  # noqa: BLE001 - reported to the worker, which fails closed
        send_message(ctl_out, {"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    send_message(ctl_out, {"ready": True, "pid": os.getpid()})
    zygote.serve(ctl_in, ctl_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
