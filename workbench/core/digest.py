"""Digests and signatures: one way to hash content, one way to say how a number was made."""

from __future__ import annotations

from .. import __version__


def signature(**parts) -> str:
    """A one-line signature naming what produced a number, sacrebleu-style.

    >>> signature(data="qa@abc123", seed=0)
    'data:qa@abc123|seed:0|workbench:0.1.0'
    """
    items = [f"{k}:{v}" for k, v in parts.items() if v is not None and v != ""]
    return "|".join([*items, f"workbench:{__version__}"])


# One hash function for every content digest (data versions, suites, probe sets, configs,
# model files): SHA-256, shown as hex, optionally shortened for signatures.
def hasher():
    """A fresh SHA-256 hasher, for content fed in pieces (frames, model folders)."""
    import hashlib

    return hashlib.sha256()


def _hex(h, length: int | None) -> str:
    out = h.hexdigest()
    return out[:length] if length else out


def sha256_bytes(data: bytes, *, length: int | None = None) -> str:
    """Hex SHA-256 of bytes (its first ``length`` characters when given).

    >>> sha256_bytes(b"abc", length=12)
    'ba7816bf8f01'
    """
    h = hasher()
    h.update(data)
    return _hex(h, length)


def sha256_text(text: str, *, length: int | None = None) -> str:
    """Hex SHA-256 of UTF-8 text.

    >>> sha256_text("abc") == sha256_bytes(b"abc")
    True
    """
    return sha256_bytes(text.encode("utf-8"), length=length)


def sha256_json(obj, *, length: int | None = None, ensure_ascii: bool = True) -> str:
    """Hex SHA-256 of a JSON-able object, keys sorted (the same object, the same digest).

    >>> sha256_json({"b": 1, "a": 2}) == sha256_json({"a": 2, "b": 1})
    True
    """
    import json

    return sha256_text(json.dumps(obj, sort_keys=True, default=str, ensure_ascii=ensure_ascii),
                       length=length)


def sha256_file(path, *, length: int | None = None, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    h = hasher()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return _hex(h, length)
