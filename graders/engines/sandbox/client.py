"""The worker side: configuration, a pool of zygotes per kit, and `run_task`.

The worker trusts nothing that comes back: the zygote relays the job's raw result bytes and
this module checks the frame (single frame, per-job nonce, bounded JSON, whitelisted array
dtypes) before anything is returned."""
from __future__ import annotations

import atexit
import json
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from .arrays import decode_tree, encode_tree
from .protocol import DeadlineExceeded, ProtocolError, parse_result_frame, receive_message, send_message

KINDS = ("ok", "error", "timeout", "crash", "memory", "output", "refused")
CHILD_KINDS = ("ok", "error", "memory", "refused", "output")
TASK_PATTERN = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")
# blocking.py's three forms: `aten::op`, `module:pkg.mod`, `pkg.mod.callable`
BLOCKED_PATTERN = re.compile(r"aten::[A-Za-z_]\w*|module:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*"
                             r"|[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")
FILE_NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
MAX_TIMEOUT_S = 600.0
ENGINE_DIR = Path(__file__).resolve().parent
DEFAULT_KIT_ROOT = ENGINE_DIR.parents[1] / "ex4" / "kit"


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot run jobs here (missing bwrap/seccomp, not root, broken setup).
    Callers must not fall back to running the code unsandboxed."""


@dataclass(frozen=True)
class TaskResult:
    ok: bool
    value: Any | None
    kind: str  # one of KINDS
    error: str | None
    wall_ms: float


@dataclass(frozen=True)
class SandboxConfig:
    kit_root: Path = DEFAULT_KIT_ROOT
    slots: int = 1  # zygotes (concurrent jobs) per worker process and kit
    uid: int = 64999  # the dedicated unprivileged uid/gid every job runs as
    gid: int = 64999
    memory_bytes: int = 2 << 30  # address space on top of what the torch zygote already maps
    file_bytes: int = 16 << 20  # largest file a job may write (RLIMIT_FSIZE)
    tmp_bytes: int = 32 << 20  # the job's writable /tmp
    open_files: int = 64
    processes: int = 32  # RLIMIT_NPROC for the job uid (seccomp already forbids fork/clone)
    max_result_bytes: int = 32 << 20
    max_files_bytes: int = 64 << 20
    preload: tuple[str, ...] = ()  # modules the zygote imports up front (e.g. the kit package)
    bwrap: str = "/usr/bin/bwrap"
    start_timeout_s: float = 120.0
    env: dict[str, str] = field(default_factory=dict)  # extra variables for the job (no secrets!)


def _config_from_env() -> SandboxConfig:
    config = SandboxConfig()
    env = os.environ
    if env.get("AUTOGRADER_SANDBOX_KIT_ROOT"):
        config = replace(config, kit_root=Path(env["AUTOGRADER_SANDBOX_KIT_ROOT"]))
    if env.get("AUTOGRADER_SANDBOX_SLOTS"):
        config = replace(config, slots=int(env["AUTOGRADER_SANDBOX_SLOTS"]))
    if env.get("AUTOGRADER_SANDBOX_UID"):
        config = replace(config, uid=int(env["AUTOGRADER_SANDBOX_UID"]),
                         gid=int(env["AUTOGRADER_SANDBOX_UID"]))
    if env.get("AUTOGRADER_SANDBOX_MEMORY_MB"):
        config = replace(config, memory_bytes=int(env["AUTOGRADER_SANDBOX_MEMORY_MB"]) << 20)
    return config


_lock = threading.Lock()
_config: SandboxConfig | None = None
_pools: dict[Path, "_Pool"] = {}
_owner_pid = os.getpid()
_spawner: ThreadPoolExecutor | None = None


def configure(**changes: Any) -> SandboxConfig:
    """Change the defaults (kit_root, slots, uid, memory_bytes, ...); running zygotes stop."""
    global _config
    if "kit_root" in changes:
        changes["kit_root"] = Path(changes["kit_root"])
    with _lock:
        _config = replace(_current_config(), **changes)
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()
    return _config


def _current_config() -> SandboxConfig:
    global _config
    if _config is None:
        _config = _config_from_env()
    return _config


def _pool_for(kit_root: Path | str | None) -> "_Pool":
    global _owner_pid, _spawner
    with _lock:
        if os.getpid() != _owner_pid:  # a forked worker: the parent's zygotes are not ours
            _pools.clear()
            _owner_pid, _spawner = os.getpid(), None
        config = _current_config()
        root = Path(kit_root or config.kit_root).resolve()
        if root not in _pools:
            _pools[root] = _Pool(replace(config, kit_root=root))
        return _pools[root]


def warm_up(kit_root: Path | str | None = None) -> None:
    """Start the zygotes of a kit now instead of on the first job."""
    pool = _pool_for(kit_root)
    for _ in range(pool.config.slots):
        slot = pool.free.get()
        try:
            slot.zygote()
        finally:
            pool.free.put(slot)


def shutdown() -> None:
    """Stop every zygote of this process."""
    with _lock:
        pools = list(_pools.values()) if os.getpid() == _owner_pid else []
        _pools.clear()
    for pool in pools:
        pool.close()


atexit.register(shutdown)


def _spawn(argv: list[str], stderr: Any) -> subprocess.Popen:
    """bwrap --die-with-parent follows the *thread* that forked it, so every zygote is forked
    from one long-lived thread rather than whichever request thread came first."""
    global _spawner
    with _lock:
        if _spawner is None:
            _spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-spawner")
        spawner = _spawner
    return spawner.submit(
        subprocess.Popen, argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
        env={"PATH": "/usr/bin:/bin"}, close_fds=True, start_new_session=True, cwd="/",
    ).result()


def _bwrap_argv(config: SandboxConfig) -> list[str]:
    argv = [config.bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session",
            # the zygote keeps only what a job needs before it drops to its uid: namespaces and
            # mounts, the uid/gid switch, and killing that job afterwards
            "--cap-drop", "ALL", "--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETUID",
            "--cap-add", "CAP_SETGID", "--cap-add", "CAP_KILL", "--hostname", "sandbox",
            "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    if os.path.exists("/etc/ld.so.cache"):
        argv += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    # only the interpreter and its site-packages (at their own paths: the venv points there)
    for tree in sorted({os.path.realpath(sys.base_prefix), sys.prefix}):
        if not tree.startswith("/usr/"):
            argv += ["--ro-bind", tree, tree]
    argv += ["--ro-bind", str(ENGINE_DIR), "/sandbox/py/graders/engines/sandbox",
             "--ro-bind", str(config.kit_root), "/sandbox/kit",
             # a small scratch for the zygote's preload (torch._dynamo probes a temp dir); every
             # job mounts its own fresh tmpfs over it
             "--dir", "/job", "--size", str(1 << 20), "--perms", "1777", "--tmpfs", "/sandbox/tmp",
             "--remount-ro", "/", "--chdir", "/",
             "--clearenv"]
    # bwrap makes the parents of bind targets 0700: open them up for the job's uid
    parents = sorted({str(p) for i, arg in enumerate(argv[:-1]) if arg == "--ro-bind"
                      for p in Path(argv[i + 2]).parents if str(p) != "/"})
    mkdirs = [x for parent in parents for x in ("--perms", "0755", "--dir", parent)]
    argv[1:1] = mkdirs
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/sandbox/tmp", "TMPDIR": "/sandbox/tmp",
           "PYTHONPATH": "/sandbox/py:/sandbox/kit", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONNOUSERSITE": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "TORCH_NUM_THREADS": "1", **config.env}
    for key, value in env.items():
        argv += ["--setenv", key, value]
    settings = {"uid": config.uid, "gid": config.gid, "memory_bytes": config.memory_bytes,
                "file_bytes": config.file_bytes, "tmp_bytes": config.tmp_bytes,
                "open_files": config.open_files, "processes": config.processes,
                "max_result_bytes": config.max_result_bytes, "preload": list(config.preload)}
    return argv + ["--", os.path.join(sys.prefix, "bin", "python3"), "-m",
                   "graders.engines.sandbox.zygote", json.dumps(settings)]


class _ZygoteGone(Exception):
    pass


class _Zygote:
    """One running zygote (bwrap + python) and its two pipes."""

    def __init__(self, config: SandboxConfig):
        if os.geteuid() != 0:
            raise SandboxUnavailable(
                "the sandbox must be started as root: every job switches to the dedicated "
                f"uid {config.uid}, which only root can do")
        if not (os.path.isfile(config.bwrap) and os.access(config.bwrap, os.X_OK)):
            found = shutil.which("bwrap")
            if not found:
                raise SandboxUnavailable("bubblewrap (bwrap) is not installed; run scripts/install.sh")
            config = replace(config, bwrap=found)
        if not (config.kit_root / "").is_dir():
            raise SandboxUnavailable(f"the sandbox kit root {config.kit_root} does not exist")
        self.log = tempfile.TemporaryFile()
        self.process = _spawn(_bwrap_argv(config), self.log)
        try:
            ready, _ = receive_message(self.process.stdout.fileno(),
                                       time.monotonic() + config.start_timeout_s)
        except ProtocolError as exc:
            log = self._log_tail()
            self.kill()
            raise SandboxUnavailable(f"the sandbox did not start ({exc}): {log}") from exc
        if not ready.get("ready"):
            self.kill()
            raise SandboxUnavailable(f"the sandbox did not start: {ready.get('error')}")

    def _log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read()[-2000:].decode(errors="replace").strip() or "no output"

    def alive(self) -> bool:
        return self.process.poll() is None

    def run(self, header: dict[str, Any], blobs: list[bytes], wait_s: float) -> tuple[dict[str, Any], bytes]:
        try:
            send_message(self.process.stdin.fileno(), header, blobs)
        except OSError as exc:
            self.kill()
            raise _ZygoteGone(str(exc), "before the job") from exc
        try:
            reply, result = receive_message(self.process.stdout.fileno(), time.monotonic() + wait_s)
        except (OSError, ProtocolError) as exc:
            self.kill()
            raise _ZygoteGone(str(exc)) from exc
        return reply, (result[0] if result else b"")

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            stream.close()
        self.log.close()


class _Slot:
    def __init__(self, config: SandboxConfig):
        self.config = config
        self.current: _Zygote | None = None

    def zygote(self) -> _Zygote:
        if self.current is None or not self.current.alive():
            if self.current is not None:
                self.current.kill()
            self.current = _Zygote(self.config)
        return self.current

    def discard(self) -> None:
        if self.current is not None:
            self.current.kill()
            self.current = None


class _Pool:
    """`slots` zygotes; a job takes a free one (thread-safe), waits if none is free."""

    def __init__(self, config: SandboxConfig):
        self.config = config
        self.free: queue.LifoQueue[_Slot] = queue.LifoQueue()
        for _ in range(config.slots):
            self.free.put(_Slot(config))

    def run(self, header: dict[str, Any], blobs: list[bytes], timeout_s: float) -> tuple[dict[str, Any], bytes] | None:
        """The zygote's reply, or None if the zygote died or hung (it is then replaced)."""
        slot = self.free.get()
        try:
            for attempt in range(2):
                try:
                    reply, result = slot.zygote().run(header, blobs, timeout_s + 10.0)
                except _ZygoteGone as gone:
                    slot.discard()
                    if len(gone.args) > 1 and attempt == 0:
                        continue  # it died between jobs: this job never started, start a new one
                    return None
                if reply.get("setup_error") is None:
                    return reply, result
                slot.discard()  # a broken zygote: one fresh try, then fail closed
                if attempt == 1:
                    raise SandboxUnavailable(f"the sandbox could not set up a job: {reply['setup_error']}")
            raise AssertionError("unreachable")
        finally:
            self.free.put(slot)

    def close(self) -> None:
        for _ in range(self.config.slots):
            self.free.get().discard()


def _file_problem(files: dict[str, bytes], config: SandboxConfig) -> str | None:
    for name, data in files.items():
        if not isinstance(name, str) or not FILE_NAME_PATTERN.fullmatch(name) or name in (".", ".."):
            return f"The file name {name!r} is not allowed."
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"file {name!r} must be bytes")
    if sum(len(data) for data in files.values()) > config.max_files_bytes:
        return f"The uploaded files are larger than {config.max_files_bytes >> 20} MiB together."
    return None


def run_task(task: str, payload: Any = None, files: dict[str, bytes] | None = None,
             timeout_s: float = 10.0, blocked: Iterable[str] = (), *,
             kit_root: Path | str | None = None, memory_bytes: int | None = None) -> TaskResult:
    """Run `module:function` from the kit on `payload` and `files` in a fresh sandboxed job.

    `kit_root` overrides the configured kit, `memory_bytes` the configured memory budget (both
    optional extensions of the agreed interface).

    Raises ValueError for a malformed call and SandboxUnavailable when no sandbox can be had;
    everything the student's code does ends in a TaskResult."""
    started = time.perf_counter()

    def result(kind: str, error: str | None, value: Any = None) -> TaskResult:
        return TaskResult(kind == "ok", value, kind, error, (time.perf_counter() - started) * 1000)

    if not TASK_PATTERN.fullmatch(task):
        raise ValueError(f"task must look like 'package.module:function', got {task!r}")
    if not 0 < timeout_s <= MAX_TIMEOUT_S:
        raise ValueError(f"timeout_s must be in (0, {MAX_TIMEOUT_S:g}]")
    if memory_bytes is not None and not 0 < memory_bytes <= 64 << 30:
        raise ValueError("memory_bytes must be positive and at most 64 GiB")
    blocked = list(blocked)
    for name in blocked:
        if not BLOCKED_PATTERN.fullmatch(name):
            raise ValueError("blocked entries look like 'aten::_linalg_eigh', 'module:scipy' or "
                             f"'numpy.linalg._umath_linalg.eigh_lo', got {name!r}")
    files = dict(files or {})
    pool = _pool_for(kit_root)
    problem = _file_problem(files, pool.config)
    if problem:
        return result("refused", problem)
    payload_json = json.dumps(encode_tree(payload if payload is not None else {})).encode()
    nonce = secrets.token_bytes(16)
    names = sorted(files)
    header = {"task": task, "timeout_s": float(timeout_s), "blocked": blocked,
              "nonce": nonce.hex(), "files": names,
              "memory_bytes": int(memory_bytes or pool.config.memory_bytes)}
    answer = pool.run(header, [payload_json] + [bytes(files[n]) for n in names], timeout_s)
    if answer is None:
        return result("crash", "The sandbox stopped during the job; it has been restarted.")
    kind, error, value = _interpret(*answer, nonce, timeout_s, pool.config)
    return result(kind, error, value)


def _interpret(reply: dict[str, Any], data: bytes, nonce: bytes, timeout_s: float,
               config: SandboxConfig) -> tuple[str, str | None, Any]:
    if reply.get("timed_out"):
        return "timeout", f"The code did not finish within {timeout_s:g} s and was stopped.", None
    sig = reply.get("signal")
    if sig == signal.SIGXCPU:
        return "timeout", f"The code used more than {int(timeout_s) + 1} s of CPU time and was stopped.", None
    if reply.get("overflow"):
        return "output", (f"The code sent back more than {config.max_result_bytes >> 20} MiB; "
                          "the result was discarded."), None
    if not data:
        if sig is not None:
            return "crash", f"The code was killed by {signal.Signals(sig).name} before it returned a result.", None
        if reply.get("exit_code") is not None:
            return "crash", f"The code exited (status {reply['exit_code']}) before it returned a result.", None
        return "crash", "The code ended before it returned a result.", None
    malformed = ("The result channel held something other than the task's own result "
                 "({}); it was discarded. Return values from your functions; do not write them.")
    if reply.get("exit_code") not in (0, None):
        return "output", malformed.format("the job did not end normally after writing it"), None
    try:
        body = json.loads(parse_result_frame(data, nonce))
        if not isinstance(body, dict) or body.get("kind") not in CHILD_KINDS:
            raise ValueError("unknown kind")
        kind = body["kind"]
        error = body.get("error")
        if error is not None and not isinstance(error, str):
            raise ValueError("error is not text")
        value = decode_tree(body.get("value")) if kind == "ok" else None
    except (ProtocolError, ValueError, TypeError, RecursionError) as exc:  # ArrayDecodeError too
        return "output", malformed.format(str(exc)[:200]), None
    return kind, (error[:4000] if error else None), value
