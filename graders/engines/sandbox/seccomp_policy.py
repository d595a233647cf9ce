"""The job's seccomp filter (libseccomp through pyseccomp), loaded after the uid drop.

Default allow with a deny list, each denial an errno so Python raises a readable OSError
instead of dying: no sockets, no exec, no new processes or threads (torch runs single-threaded
here, checked: a forward and backward pass create no thread), nothing that reaches the kernel's
admin surface. Foreign-architecture syscalls kill the process (libseccomp's default)."""
from __future__ import annotations

import errno

import pyseccomp as seccomp

DENIED_SYSCALLS = (
    # network and IPC with the outside
    "socket", "socketpair",
    # new programs, processes and threads
    "execve", "execveat", "fork", "vfork", "clone",
    # other processes' memory and the namespaces / mounts we set up
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_open", "pidfd_getfd",
    "process_madvise", "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
    "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr",
    "open_by_handle_at", "name_to_handle_at",
    # kernel attack surface a numeric job never needs
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "memfd_create", "fanotify_init",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "swapon", "swapoff", "acct", "quotactl", "sethostname", "setdomainname", "settimeofday",
    "clock_settime", "clock_adjtime", "adjtimex", "syslog", "vhangup", "iopl", "ioperm",
    "uselib", "lookup_dcookie",
)


def load_job_filter() -> None:
    """Install the filter on the calling (single-threaded) process; irreversible."""
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        try:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (ValueError, RuntimeError, OSError):
            continue  # syscall unknown to this architecture / kernel headers
    # glibc tries clone3 first and falls back to clone (denied above) on ENOSYS
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    rules.load()
