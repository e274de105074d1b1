"""Save user uploads under generated names inside the project."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from ..core.errors import WorkbenchError
from ._versions import SUPPORTED_EXTENSIONS

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


def save_upload(project, filename: str, content: bytes, *,
                allowed: tuple[str, ...] = SUPPORTED_EXTENSIONS) -> tuple[Path, str]:
    """Store ``content`` under a generated name; return ``(path, safe display name)``.

    The user's file name never becomes a path: only its extension (if allowed) is kept,
    so ``../../etc/passwd`` or ``a/b.csv`` cannot escape the uploads folder.
    """
    base = re.split(r"[\\/]", filename or "")[-1]
    ext = Path(base).suffix.lower()
    if ext not in allowed:
        raise WorkbenchError(f"{base or '(no name)'}: unsupported file type '{ext or '(none)'}'; "
                             f"supported: {', '.join(allowed)}")
    if len(content) > MAX_UPLOAD_BYTES:
        raise WorkbenchError(f"{base}: {len(content)} bytes is over the upload limit of "
                             f"{MAX_UPLOAD_BYTES} bytes")
    project.uploads_dir.mkdir(parents=True, exist_ok=True)
    dest = project.uploads_dir / f"{uuid.uuid4().hex}{ext}"
    dest.write_bytes(content)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", base)[:100] or "upload"
    return dest, safe
