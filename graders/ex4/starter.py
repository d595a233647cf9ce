"""The starter kit zip (`GET /api/v1/exercises/ex4/starter`), built from `graders/ex4/kit/`.

Deterministic: files in sorted order, fixed timestamps and permissions, so the same kit gives
the same bytes. Caches, trained weights and anything else that is not kit source stay out."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from graders.ex4.kit_path import KIT_ROOT

ZIP_ROOT = "sheet8-ex4"
INCLUDED_SUFFIXES = {".py", ".md", ".txt"}
FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def kit_files(root: Path = KIT_ROOT) -> list[Path]:
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and p.suffix in INCLUDED_SUFFIXES
        and not any(part.startswith((".", "__pycache__")) for part in p.relative_to(root).parts)
    )


def build_starter_zip(root: Path = KIT_ROOT) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in kit_files(root):
            info = zipfile.ZipInfo(f"{ZIP_ROOT}/{path.relative_to(root).as_posix()}", date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()
