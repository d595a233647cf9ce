"""Content-addressed file store: `DATA_DIR/blobs/ab/cdef…` named by sha256.

A file is streamed into a temp file under `DATA_DIR/tmp` (same filesystem), hashed and
size-checked while it arrives, then renamed into place atomically: a reader never sees half
a blob, and a refused upload leaves nothing behind."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class BlobWriter:
    """One upload on its way into the store."""

    def __init__(self, store: "BlobStore", limit: int) -> None:
        self.store = store
        self.limit = limit
        self.size = 0
        self._hash = hashlib.sha256()
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="upload-")
        self._file = os.fdopen(fd, "wb")
        self.temp_path = Path(name)

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise TooLarge(self.limit)
        self._hash.update(chunk)
        self._file.write(chunk)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def commit(self) -> tuple[str, bool]:
        """Move the upload into the store. Returns (sha256, whether the blob is new)."""
        self._file.close()
        digest = self.sha256
        target = self.store.path(digest)
        if target.exists():
            self.temp_path.unlink(missing_ok=True)
            return digest, False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.temp_path, 0o444)
        os.replace(self.temp_path, target)
        return digest, True

    def discard(self) -> None:
        self._file.close()
        self.temp_path.unlink(missing_ok=True)


class BlobStore:
    def __init__(self, root: Path, tmp_dir: Path) -> None:
        self.root = Path(root)
        self.tmp_dir = Path(tmp_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256[2:]

    def writer(self, limit: int) -> BlobWriter:
        return BlobWriter(self, limit)

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)
