"""One job, inside the zygote's bubblewrap: the process that runs a task on student files.

It is pid 1 of its own pid namespace and enters new mount, net, ipc and uts namespaces and
mounts a fresh /proc before a request arrives (it is forked ahead as the zygote's spare). Once it has the
request it writes the files to a private tmpfs made read-only, sets rlimits, closes every fd
but the result pipe, patches the blocked callables, switches to the dedicated uid, loads the
seccomp filter and only then imports and calls the task. The result goes back as one framed
JSON message with the job's nonce; stdout and stderr go to /dev/null."""
from __future__ import annotations

import ctypes
import fcntl
import importlib
import json
import os
import resource
import signal
import traceback
from pathlib import Path
from typing import Any, NoReturn

from . import blocking
from .arrays import ArrayDecodeError, decode_tree, encode_tree
from .protocol import ProtocolError, receive_message, result_frame, write_all
from .seccomp_policy import install_job_filter

WORKDIR = Path("/job")
# Not /tmp: the venv may live under /tmp (a CI clone), and a tmpfs there would hide it.
TMPDIR = "/sandbox/tmp"
RESULT_FD, SETUP_FD = 3, 4
CHILD_KINDS = ("ok", "error", "memory", "refused", "output")

_libc = ctypes.CDLL(None, use_errno=True)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE = 1, 38, 4
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x20000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
JOB_NAMESPACES = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET  # pid: zygote.Spare


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, value, 0, 0, 0), f"prctl({option})")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, nstype: int) -> None:
    _check(_libc.setns(fd, nstype), "setns")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                       ctypes.c_ulong(flags), data.encode() if data else None), f"mount {target}")


def prepare_namespace() -> None:
    """Runs as pid 1 of the new pid namespace, before the request: new mount, net, ipc and uts
    namespaces and a /proc that shows only this job (the zygote stays invisible)."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getpid() != 1:
        raise OSError("the job is not pid 1 of its own pid namespace")
    unshare(JOB_NAMESPACES)
    mount("none", "/", None, MS_REC | MS_PRIVATE)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def _install_files(files: list[tuple[str, bytes]], tmp_bytes: int) -> None:
    size = sum(len(data) for _, data in files) + 64 * 1024
    mount("tmpfs", str(WORKDIR), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, f"size={size},mode=0755")
    for name, data in files:
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"bad file name {name!r}")
        path = WORKDIR / name
        with open(path, "xb") as handle:
            handle.write(data)
        path.chmod(0o444)
    mount("none", str(WORKDIR), None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    mount("tmpfs", TMPDIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, f"size={tmp_bytes},mode=1777")


def _vm_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise OSError(f"{field} missing from /proc/self/status")


def _set_limits(limits: dict[str, int], timeout_s: float, memory_bytes: int) -> None:
    cpu = int(timeout_s) + 1
    # a fork of the torch zygote already maps ~0.6 GiB: the budget sits on top of that
    address_space = _vm_bytes("VmSize") + memory_bytes
    data = _vm_bytes("VmData") + memory_bytes
    for which, value in (
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (address_space, address_space)),
        (resource.RLIMIT_DATA, (data, data)),
        (resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"])),
        (resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"])),
        (resource.RLIMIT_NPROC, (limits["processes"], limits["processes"])),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_MEMLOCK, (0, 0)),
        (resource.RLIMIT_MSGQUEUE, (0, 0)),
    ):
        resource.setrlimit(which, value)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails with EFBIG instead


def _isolate_fds(result_fd: int, setup_fd: int) -> None:
    # via high numbers first: the inherited pipes may already sit on 3 or 4
    high_result = fcntl.fcntl(result_fd, fcntl.F_DUPFD, 100)
    high_setup = fcntl.fcntl(setup_fd, fcntl.F_DUPFD, 100)
    os.dup2(high_result, RESULT_FD)
    os.dup2(high_setup, SETUP_FD)
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.closerange(SETUP_FD + 1, 65536)


def _drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() == 0 or os.geteuid() == 0 or uid == 0:
        raise OSError("job still runs as root")
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_DUMPABLE, 0)


def _sanitize(text: str) -> str:
    """Host paths out of a message: the student's files by name, the kit relative."""
    import site
    import sys

    prefixes = [str(WORKDIR) + "/", "/sandbox/kit/"] + sorted(
        {p.rstrip("/") + "/" for p in site.getsitepackages() + [sys.prefix, sys.base_prefix]},
        key=len, reverse=True)
    for prefix in prefixes:
        text = text.replace(prefix, "")
    return text


def student_message(exc: BaseException) -> str:
    """The traceback restricted to the student's own files, then the exception."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith(str(WORKDIR) + "/")]
    lines = []
    if frames:
        lines.append("Traceback (most recent call last):")
        for frame in frames[-8:]:
            lines.append(f'  File "{Path(frame.filename).name}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
    lines.extend(line.rstrip("\n") for line in traceback.format_exception_only(type(exc), exc))
    text = _sanitize("\n".join(lines))
    return text if len(text) <= 4000 else text[:1800] + "\n…\n" + text[-1800:]


def _is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return any(s in text for s in ("can't allocate memory", "cannot allocate memory",
                                   "not enough memory", "bad_alloc"))


def run_task(task: str, payload: Any) -> dict[str, Any]:
    """Import and call the task; never raises."""
    try:
        module_name, function_name = task.split(":")
        function = getattr(importlib.import_module(module_name), function_name)
        value = encode_tree(function(payload, WORKDIR))
    except BaseException as exc:  # noqa: BLE001 - student code may raise anything, SystemExit too
        if blocking.attempted:
            return {"kind": "refused", "error": _refused_message()}
        kind = "memory" if _is_out_of_memory(exc) else "error"
        return {"kind": kind, "error": student_message(exc)}
    if blocking.attempted:
        return {"kind": "refused", "error": _refused_message()}
    return {"kind": "ok", "value": value}


def _refused_message() -> str:
    names = ", ".join(sorted(set(blocking.attempted)))
    return f"The code used {names}, which this exercise does not allow; this part earns nothing."


def job_main(job_fd: int, setup_fd: int, result_fd: int, settings: dict[str, Any]) -> NoReturn:
    """Body of the job process; exits, never returns."""
    try:
        prepare_namespace()
    except BaseException as exc:  # noqa: BLE001 - reported to the zygote as a setup failure
        _fail_setup(setup_fd, f"namespace setup failed: {exc}")
    try:
        header, blobs = receive_message(job_fd)
    except ProtocolError:
        os._exit(0)  # the zygote let this spare go
    report_fd = setup_fd
    try:
        payload = decode_tree(json.loads(blobs[0]))
        files = list(zip(header["files"], blobs[1:]))
        _install_files(files, settings["tmp_bytes"])
        _isolate_fds(result_fd, setup_fd)
        report_fd = SETUP_FD
        _set_limits(settings, float(header["timeout_s"]), int(header["memory_bytes"]))
        blocking.block(header["blocked"], student_root=str(WORKDIR) + "/")
        os.chdir(WORKDIR)
        os.environ["TMPDIR"] = TMPDIR
        _drop_privileges(settings["uid"], settings["gid"])
        install_job_filter(settings["seccomp_program"])
    except BaseException as exc:  # noqa: BLE001
        _fail_setup(report_fd, f"job setup failed: {exc!r}")
    write_all(SETUP_FD, b"OK")
    os.close(SETUP_FD)
    nonce = bytes.fromhex(header["nonce"])
    body = _bounded_json(run_task(header["task"], payload), settings["max_result_bytes"])
    write_all(RESULT_FD, result_frame(nonce, body))
    os._exit(0)


def _bounded_json(result: dict[str, Any], limit: int) -> bytes:
    try:
        body = json.dumps(result).encode()
    except (TypeError, ValueError, ArrayDecodeError) as exc:
        body = json.dumps({"kind": "output", "error": f"The result cannot be sent back: {exc}"}).encode()
    if len(body) > limit:
        body = json.dumps({"kind": "output", "error": "The result is too large to send back."}).encode()
    return body


def _fail_setup(fd: int, message: str) -> NoReturn:
    try:
        write_all(fd, message.encode()[:4000])
    finally:
        os._exit(71)
