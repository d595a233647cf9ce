"""Length-prefixed messages over pipes, shared by the worker, the zygote and the job.

A message is a JSON header plus raw blobs (files, the job's result bytes), so weights cross
without base64. Every read is bounded: a peer can stall or lie, never make us allocate
unbounded memory. The job's result frame carries the per-job nonce; the trusted parent accepts
exactly one well-formed frame and nothing else."""
from __future__ import annotations

import json
import os
import select
import struct
import time
from typing import Any

_LEN = struct.Struct(">I")
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_MESSAGE_BYTES = 512 * 1024 * 1024

RESULT_MAGIC = b"SBXRESULT1"
NONCE_BYTES = 16


class ProtocolError(Exception):
    """The peer closed the pipe or sent something malformed."""


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class DeadlineExceeded(ProtocolError):
    """The peer did not send in time."""


def read_exact(fd: int, size: int, deadline: float | None = None) -> bytes:
    """Read exactly `size` bytes; `deadline` is a time.monotonic() value."""
    chunks = []
    remaining = size
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise DeadlineExceeded("peer did not answer in time")
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise ProtocolError("pipe closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def send_message(fd: int, header: dict[str, Any], blobs: list[bytes] = ()) -> None:
    header = dict(header, blob_sizes=[len(b) for b in blobs])
    head = json.dumps(header).encode()
    write_all(fd, _LEN.pack(len(head)) + head + b"".join(blobs))


def receive_message(fd: int, deadline: float | None = None) -> tuple[dict[str, Any], list[bytes]]:
    (head_len,) = _LEN.unpack(read_exact(fd, _LEN.size, deadline))
    if head_len > MAX_HEADER_BYTES:
        raise ProtocolError("message header too large")
    try:
        header = json.loads(read_exact(fd, head_len, deadline))
        sizes = header.pop("blob_sizes")
    except DeadlineExceeded:
        raise
    except (ValueError, KeyError, AttributeError) as exc:
        raise ProtocolError("malformed message header") from exc
    if (not isinstance(sizes, list) or not all(type(s) is int and s >= 0 for s in sizes)
            or sum(sizes) > MAX_MESSAGE_BYTES):
        raise ProtocolError("malformed blob sizes")
    return header, [read_exact(fd, size, deadline) for size in sizes]


def result_frame(nonce: bytes, body: bytes) -> bytes:
    return RESULT_MAGIC + nonce + _LEN.pack(len(body)) + body


def parse_result_frame(data: bytes, nonce: bytes) -> bytes:
    """The body of the single frame in `data`; ProtocolError if there is anything else."""
    head = len(RESULT_MAGIC) + NONCE_BYTES + _LEN.size
    if len(data) < head or not data.startswith(RESULT_MAGIC):
        raise ProtocolError("no result frame")
    if data[len(RESULT_MAGIC):len(RESULT_MAGIC) + NONCE_BYTES] != nonce:
        raise ProtocolError("result frame with a wrong nonce")
    (size,) = _LEN.unpack(data[head - _LEN.size:head])
    if len(data) != head + size:
        raise ProtocolError("bytes before, after or instead of the result frame")
    return data[head:]
