"""Save user uploads under generated names inside the project."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from ..core.errors import ConfigError, DataError, WorkbenchError
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
        raise ConfigError(f"{base or '(no name)'}: unsupported file type '{ext or '(none)'}'; "
                          f"supported: {', '.join(allowed)}")
    if len(content) > MAX_UPLOAD_BYTES:
        raise DataError(f"{base}: {len(content)} bytes is over the upload limit of "
                        f"{MAX_UPLOAD_BYTES} bytes")
    project.uploads_dir.mkdir(parents=True, exist_ok=True)
    dest = project.uploads_dir / f"{uuid.uuid4().hex}{ext}"
    dest.write_bytes(content)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", base)[:100] or "upload"
    return dest, safe


def import_upload(project, filename: str, content: bytes, *, name: str | None = None,
                  encoding: str = "utf-8"):
    """Import an uploaded file as a dataset version; returns ``(version, created)``.

    The file is stored under a generated name (see :func:`save_upload`), but the dataset
    keeps the file's own name: as its default name, as its ``source`` and in any error
    message (never the internal upload path). Errors name no content of the file beyond
    what locates the problem (line, column, byte offset).
    """
    from ._versions import check_name, default_name, read_source, save_version

    path, safe = save_upload(project, filename, content)
    # the file's own name as the user sees it (folders and control characters dropped);
    # only the default dataset name needs the restricted ``safe`` form
    own = re.sub(r"[\x00-\x1f\x7f]+", "", re.split(r"[\\/]", filename or "")[-1]).strip()
    own = own[:200] or safe
    try:
        frame, _ = read_source(str(path), encoding=encoding)
    except WorkbenchError as exc:
        path.unlink(missing_ok=True)
        raise type(exc)(str(exc).replace(str(path), own), param=exc.param) from None
    return save_version(project, frame, name=check_name(name or default_name(safe)),
                        source=f"{own} (uploaded)")
