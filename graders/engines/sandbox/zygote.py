"""The zygote: a long-lived process inside bubblewrap that imports torch once and forks jobs.

Started by the worker with a clean environment (never a fork of the worker, so its memory holds
no secrets), it reads requests from its stdin and answers on its stdout. It keeps one spare: a
forked job process that is pid 1 of a new pid namespace and has entered new mount, net, ipc and
uts namespaces, so a request only has to be written to a pipe. The zygote enforces the wall
clock (SIGKILL to the job, pid 1 of its namespace, takes everything in it down) and relays the
job's raw result bytes, bounded, to the worker, which alone decides what they mean.

    python -m graders.engines.sandbox.zygote SETTINGS_JSON
"""
from __future__ import annotations

import gc
import importlib
import json
import os
import select
import signal
import sys
import threading
import time
from typing import Any

from . import job
from .protocol import NONCE_BYTES, RESULT_MAGIC, ProtocolError, receive_message, send_message

READ_CHUNK = 1 << 16
KILL_GRACE_S = 5.0


def preload(modules: list[str]) -> bytes:
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
    for optimizer in (torch.optim.SGD([images], lr=0.1), torch.optim.Adam([images])):
        optimizer.step()  # the first step imports torch._dynamo (~1 s), once here, not per job
    _ = torch.randn(512, 512) @ torch.randn(512, 512)
    _ = np.ones((256, 256)) @ np.ones((256, 256))
    try:
        import safetensors.torch  # noqa: F401 - so jobs load weights without import cost
    except ImportError:
        pass
    for name in modules:
        importlib.import_module(name)
    # keep the collector off the preloaded objects: a collection in a job would otherwise write
    # to (and so copy) every page of the zygote's heap
    gc.collect()
    gc.freeze()
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1 or threading.active_count() != 1:
        raise RuntimeError(f"zygote has {threads} threads after preload; forking it is unsafe")
    from .seccomp_policy import compile_job_filter

    return compile_job_filter()


def _close_all_except(keep: set[int]) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


class Spare:
    """A forked job process, pid 1 of a fresh pid namespace, waiting for its request.

    One fork per job: the zygote points its children's pid namespace at a new one
    (unshare(CLONE_NEWPID)), forks, and points it back at its own (setns), so the job is the
    zygote's direct child and its exit status needs no middleman."""

    def __init__(self, settings: dict[str, Any], own_pid_ns: int):
        job_r, self.job_w = os.pipe()
        self.setup_r, setup_w = os.pipe()
        self.result_r, result_w = os.pipe()
        job.unshare(job.CLONE_NEWPID)
        pid = os.fork()
        if pid == 0:
            _close_all_except({job_r, setup_w, result_w})
            job.job_main(job_r, setup_w, result_w, settings)
        self.pid = pid
        job.setns(own_pid_ns, job.CLONE_NEWPID)
        for fd in (job_r, setup_w, result_w):
            os.close(fd)

    def discard(self) -> None:
        """Kill the job; `reap` collects it later, so the kernel's teardown of a torch-sized
        address space stays off the reply path."""
        for fd in (self.job_w, self.setup_r, self.result_r):
            if fd >= 0:
                os.close(fd)
        self.job_w = self.setup_r = self.result_r = -1
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def reap() -> None:
    """Collect every exited child without waiting."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _frame_complete(data: bytearray) -> bool:
    head = len(RESULT_MAGIC) + NONCE_BYTES + 4
    return len(data) >= head and len(data) >= head + int.from_bytes(data[head - 4:head], "big")


class Zygote:
    def __init__(self, settings: dict[str, Any]):
        self.settings = settings
        self.own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY)
        self.spare: Spare | None = Spare(settings, self.own_pid_ns)
        self.loaded: set[str] = set()

    def serve(self, ctl_in: int, ctl_out: int) -> None:
        while True:
            try:
                header, blobs = receive_message(ctl_in)
            except ProtocolError:
                break  # the worker went away
            reply, result = self.run(header, blobs)
            send_message(ctl_out, reply, [result])
            reap()
            if self.spare is None:
                self.spare = Spare(self.settings, self.own_pid_ns)
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
        spare = self.spare or Spare(self.settings, self.own_pid_ns)
        self.spare = None
        try:
            send_message(spare.job_w, header, blobs)
        except OSError as exc:
            spare.discard()
            return {"setup_error": f"the job process did not take the request: {exc}"}, b""
        os.close(spare.job_w)
        spare.job_w = -1
        try:
            # while this job runs (on the other core), prepare the next one
            self._load_task_module(header["task"])
            self.spare = Spare(self.settings, self.own_pid_ns)
            return self._watch(spare, float(header["timeout_s"]))
        finally:
            spare.discard()

    def _watch(self, spare: Spare, timeout_s: float) -> tuple[dict[str, Any], bytes]:
        """Relay the job's result bytes. The reply goes out as soon as one complete frame is
        in (the job is then killed), at the deadline, or when the job ends."""
        started = time.monotonic()
        deadline = started + timeout_s
        limit = int(self.settings["max_result_bytes"]) + 64
        buffers = {spare.setup_r: bytearray(), spare.result_r: bytearray()}
        open_fds = set(buffers)
        overflow = timed_out = False
        while open_fds and not _frame_complete(buffers[spare.result_r]):
            now = time.monotonic()
            if now >= deadline and not timed_out:
                timed_out = True
                os.kill(spare.pid, signal.SIGKILL)  # pid 1 of its namespace: everything in it dies
                deadline = now + KILL_GRACE_S
            elif now >= deadline:
                break
            ready, _, _ = select.select(list(open_fds), [], [], deadline - now)
            for fd in ready:
                data = os.read(fd, READ_CHUNK)
                if not data:
                    open_fds.discard(fd)
                elif len(buffers[fd]) + len(data) > (limit if fd == spare.result_r else 65536):
                    overflow = True  # keep draining so the job cannot block on a full pipe
                    if fd == spare.result_r:
                        buffers[fd] = bytearray()
                else:
                    buffers[fd] += data
        if spare.setup_r in open_fds:  # "OK" was written before the frame: collect it
            os.set_blocking(spare.setup_r, False)
            try:
                buffers[spare.setup_r] += os.read(spare.setup_r, 65536)
            except BlockingIOError:
                pass
        reply: dict[str, Any] = {"timed_out": timed_out, "overflow": overflow,
                                 "job_ms": (time.monotonic() - started) * 1000,
                                 "exit_code": None, "signal": None, "setup_error": None}
        if not open_fds and not timed_out:  # both pipes closed: the job has exited
            _, status = os.waitpid(spare.pid, 0)
            if os.WIFEXITED(status):
                reply["exit_code"] = os.WEXITSTATUS(status)
            elif os.WIFSIGNALED(status):
                reply["signal"] = os.WTERMSIG(status)
        setup = bytes(buffers[spare.setup_r])
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
        settings["seccomp_program"] = preload(settings["preload"])
        zygote = Zygote(settings)
    except BaseException as exc:  # noqa: BLE001 - reported to the worker, which fails closed
        send_message(ctl_out, {"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    send_message(ctl_out, {"ready": True, "pid": os.getpid()})
    zygote.serve(ctl_in, ctl_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
