"""Datasets on Spark: read Parquet/CSV at scale, hash without collecting, store partitioned.

Content hash on the Spark engine (``spark-rows-v1``): every row is serialised by Spark as
JSON (``to_json(struct(*columns))``) and hashed with SHA-256 on the executors; the 256-bit
row digests are added up as four 64-bit lanes (mod 2**64) by Spark's own partial
aggregation, so no process ever holds more than one partition. The version's hash is
SHA-256 over the scheme name, the column names and types, the row count and the four
sums. It does not depend on partitioning, file layout or row order (a Spark dataset has
no defined row order); duplicated rows count. It is a different function from the pandas
engine's order-sensitive :func:`workbench.data.content_hash`, so the same rows imported
by both engines give two versions of the dataset; :func:`spark_content_hash` of either
stored copy is the same, which is what the tests pin.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

from ..core.digest import hasher
from ..core.errors import ConfigError, DataError, NotFoundError
from ..core.store import DatasetVersion, Store

HASH_SCHEME = "spark-rows-v1"
_MASK = (1 << 64) - 1
#: Spark type -> the dtype name the pandas engine records for that column
_DTYPES = {"string": "string", "bigint": "int64", "int": "int32", "smallint": "int16",
           "tinyint": "int8", "double": "float64", "float": "float32", "boolean": "bool",
           "timestamp": "datetime64[us, UTC]", "timestamp_ntz": "datetime64[us]",
           "date": "object", "binary": "object"}


def read_spark(spark, source: str | os.PathLike):
    """A Spark DataFrame over a Parquet/CSV file or a folder of them (nothing collected)."""
    path = Path(source).expanduser()
    if not path.exists():
        raise NotFoundError(f"{path}: no such file or folder")
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and not p.name.startswith(("_", ".")))
    kinds = {p.suffix.lower() for p in files}
    if not files:
        raise DataError(f"{path}: the folder holds no data files")
    if kinds <= {".parquet", ".pq"}:
        reader = spark.read.option("recursiveFileLookup", "true").parquet
    elif kinds <= {".csv"}:
        def reader(p):
            return (spark.read.option("header", "true").option("inferSchema", "true")
                    .option("multiLine", "true").option("escape", '"')
                    .option("recursiveFileLookup", "true").csv(p))
    else:
        raise ConfigError(f"{path}: the Spark engine reads Parquet or CSV files (or a folder "
                          f"of one kind); found {', '.join(sorted(k or '(none)' for k in kinds))}")
    try:
        df = reader(str(path.resolve()))
    except Exception as exc:  # noqa: BLE001 - Spark's AnalysisException and friends
        raise DataError(f"{path}: Spark could not read it: {spark_error(exc)}") from None
    cols = df.columns
    if not cols:
        raise DataError(f"{path}: no columns")
    dupes = sorted({c for c in cols if cols.count(c) > 1})
    if dupes:
        raise DataError(f"{path}: duplicate column names: {', '.join(map(repr, dupes))}")
    return df


def spark_error(exc: BaseException) -> str:
    """The informative line of a Spark/py4j error (the Java exception, not the call)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    for ln in lines:
        if "Exception:" in ln or ln.startswith("[") and "]" in ln:
            return ln[:300]
    return (lines[0] if lines else type(exc).__name__)[:300]


def spark_schema(df, nulls: dict[str, int] | None = None) -> list[dict]:
    """Columns as the store records them: name, the pandas engine's dtype name, nulls."""
    out = []
    for name, typ in df.dtypes:
        dtype = _DTYPES.get(typ, "decimal" if typ.startswith("decimal") else typ)
        n = int((nulls or {}).get(name, 0))
        if n and dtype.startswith("int"):
            dtype = "float64"  # pandas turns an integer column with nulls into floats
        out.append({"name": name, "dtype": dtype, "nulls": n})
    return out


def spark_stats(df) -> tuple[str, int, dict[str, int]]:
    """``(content hash, rows, nulls per column)`` in one distributed pass."""
    from pyspark.sql import functions as F

    row = F.sha2(F.to_json(F.struct(*[F.col(f"`{c}`") for c in df.columns])), 256)
    lanes = [F.conv(F.substring(row, 1 + 16 * k, 16), 16, 10).cast("decimal(20,0)")
             for k in range(4)]
    aggs = [F.count(F.lit(1)).alias("_rows")]
    aggs += [F.sum(lane).alias(f"_lane{k}") for k, lane in enumerate(lanes)]
    aggs += [F.sum(F.col(f"`{c}`").isNull().cast("long")).alias(f"_null{i}")
             for i, c in enumerate(df.columns)]
    res = df.agg(*aggs).collect()[0]
    rows = int(res["_rows"])
    sums = [int(res[f"_lane{k}"] or 0) & _MASK for k in range(4)]
    nulls = {c: int(res[f"_null{i}"] or 0) for i, c in enumerate(df.columns)}
    h = hasher()
    h.update(json.dumps([HASH_SCHEME, df.dtypes, rows, sums]).encode())
    return h.hexdigest(), rows, nulls


def spark_content_hash(df) -> str:
    """The Spark engine's content hash of ``df`` (see the module docstring)."""
    return spark_stats(df)[0]


def import_spark(project, source: str, *, name: str | None = None,
                 master: str | None = None) -> tuple[DatasetVersion, bool]:
    """Import a Parquet/CSV file or folder through Spark as partitioned Parquet.

    The new version is a folder ``datasets/NAME/VERSION/`` of ``part-*.parquet`` files
    written by the executors (``pandas.read_parquet`` and Spark both read it). Importing
    the same rows again, in any file layout or order, returns the existing version.
    Returns ``(version, created)``.
    """
    from ..core.engines import spark_session
    from ._versions import check_name, default_name

    if not source:
        raise ConfigError("source: give a Parquet/CSV file or folder to import", param="source")
    name = check_name(name or default_name(str(source).rstrip("/")))
    spark = spark_session(master)
    df = read_spark(spark, source)
    src = str(Path(source).expanduser().resolve())
    return store_spark_version(project, df, name=name, source=src, empty=f"{source}: no rows")


def store_spark_version(project, df, *, name: str, source: str,
                        empty: str = "no rows") -> tuple[DatasetVersion, bool]:
    """Write the Spark DataFrame ``df`` as version ``datasets/NAME/HASH12/`` (partitioned).

    The version is named by :func:`spark_stats`'s hash; storing the same rows again
    returns the existing version. Raises ``DataError(empty)`` when ``df`` has no rows.
    Returns ``(version, created)``.
    """
    digest, rows, nulls = spark_stats(df)
    if rows == 0:
        raise DataError(empty)
    version = digest[:12]
    rel = Path("datasets") / name / version
    dest = project.state / rel
    if not dest.exists():
        tmp = dest.with_name(f".{version}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            df.write.mode("error").parquet(str(tmp))
            for p in tmp.iterdir():
                if p.name.endswith(".crc") or p.name == "_SUCCESS":
                    p.unlink()
                else:
                    os.chmod(p, 0o444)
            try:
                os.replace(tmp, dest)
            except OSError:  # another process stored the same version first
                if not dest.exists():
                    raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return Store.for_project(project).add_dataset(
        name=name, version=version, content_hash=digest, source=source, rows=rows,
        columns=spark_schema(df, nulls), path=str(rel))


__all__ = ["HASH_SCHEME", "import_spark", "read_spark", "spark_content_hash", "spark_schema",
           "spark_stats", "store_spark_version"]
