"""The store: every dataset version, run and lineage edge, in SQLAlchemy 2.

SQLite in the project's state folder by default (WAL mode, a busy timeout and
``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing), any SQLAlchemy
URL through ``WORKBENCH_DB_URL``.

The schema is versioned with Alembic (``MIGRATIONS_DIR``). Opening a store brings it to
``SCHEMA_HEAD``: a new database is created at head, a store from a release before
migrations (no ``alembic_version`` table) is stamped as the baseline and upgraded, an
older revision is upgraded, and a revision this release does not know (a newer release
made the store) is refused without changing anything. One process migrates at a time
(SQLite's write lock, PostgreSQL's advisory lock); a store already at head costs one
``SELECT`` and no Alembic import.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from .errors import NotFoundError, WorkbenchError
from .sqlite import ensure_wal

RunStatus = Literal["running", "succeeded", "failed", "cancelled"]
BUSY_TIMEOUT_MS = 60_000

#: Alembic's script folder, shipped inside the package next to this module.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: The newest revision in ``MIGRATIONS_DIR`` (a test keeps the two equal). Opening a store
#: compares its ``alembic_version`` with this, so a store at head never imports Alembic.
SCHEMA_HEAD = "0003_signoffs"
#: What releases before migrations created (no ``alembic_version`` table).
BASELINE = "0001_baseline"
BASELINE_TABLES = frozenset({"datasets", "runs", "lineage", "run_metrics", "verdicts",
                             "reports"})
_PG_MIGRATION_LOCK = 7_406_216_115  # any fixed bigint: the advisory lock migrations take


class StoreSchemaError(WorkbenchError):
    """The database's schema cannot be brought to this release's (nothing was changed)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class DatasetRow(Base):
    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer)
    columns: Mapped[list] = mapped_column(JSON)
    path: Mapped[str] = mapped_column(Text)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    input_hashes: Mapped[dict] = mapped_column(JSON, default=dict)
    outputs: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    started: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    finished: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)


class LineageRow(Base):
    __tablename__ = "lineage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_type: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[str] = mapped_column(String(100), index=True)
    child_type: Mapped[str] = mapped_column(String(20))
    child_id: Mapped[str] = mapped_column(String(100), index=True)
    relation: Mapped[str] = mapped_column(String(50))
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)


class MetricRow(Base):
    __tablename__ = "run_metrics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)


class VerdictRow(Base):
    __tablename__ = "verdicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_a: Mapped[int] = mapped_column(Integer, index=True)
    run_b: Mapped[int] = mapped_column(Integer, index=True)
    item: Mapped[str] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(String(20))
    reviewer: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)


class SignoffRow(Base):
    """A reviewer's decision on a report, with the signatures it covers."""

    __tablename__ = "signoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(Integer, index=True)
    reviewer: Mapped[str] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    signatures: Mapped[dict] = mapped_column(JSON)
    runs: Mapped[list] = mapped_column(JSON)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)


class ReportRow(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    title: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)


@dataclass(frozen=True)
class DatasetVersion:
    """One immutable, content-addressed version of a dataset."""

    name: str
    version: str
    content_hash: str
    source: str
    rows: int
    columns: list[dict]
    path: str
    created: dt.datetime

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "content_hash": self.content_hash,
                "source": self.source, "rows": self.rows, "columns": self.columns,
                "path": self.path, "created": self.created.isoformat(timespec="seconds")}


@dataclass(frozen=True)
class Run:
    """One recorded run of any kind (check, split, train, evaluate, probe, report...)."""

    id: int
    kind: str
    name: str | None
    config: dict
    input_hashes: dict
    outputs: dict
    status: str
    started: dt.datetime
    finished: dt.datetime | None
    duration_s: float | None
    error: str | None
    pid: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "name": self.name, "config": self.config,
                "input_hashes": self.input_hashes, "outputs": self.outputs,
                "status": self.status, "started": self.started.isoformat(timespec="seconds"),
                "finished": self.finished.isoformat(timespec="seconds") if self.finished else None,
                "duration_s": self.duration_s, "error": self.error}


def _dataset(row: DatasetRow) -> DatasetVersion:
    return DatasetVersion(row.name, row.version, row.content_hash, row.source, row.rows,
                          list(row.columns), row.path, row.created)


def _run(row: RunRow) -> Run:
    return Run(row.id, row.kind, row.name, dict(row.config or {}), dict(row.input_hashes or {}),
               dict(row.outputs or {}), row.status, row.started, row.finished, row.duration_s,
               row.error, row.pid)


_ENGINES: dict[str, Any] = {}


def _make_engine(url: str):
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised through the store
        # Let SQLAlchemy, not the driver, decide when transactions begin (see "begin").
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        ensure_wal(dbapi_conn)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover
        # IMMEDIATE takes the write lock up front: a deferred transaction that later
        # upgrades to a write fails with "database is locked" instead of waiting.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _where(engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _is_at_head(engine) -> bool:
    """One read of ``alembic_version``; any error (no such table yet) means "not sure"."""
    try:
        with engine.connect() as conn:
            return set(conn.exec_driver_sql("SELECT version_num FROM alembic_version")
                       .scalars()) == {SCHEMA_HEAD}
    except DBAPIError:
        return False


def _migrate(engine) -> None:
    """Bring the database to ``SCHEMA_HEAD`` under a lock, or refuse (changing nothing).

    The whole decision and the migrations happen in one transaction that holds the lock
    (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-scoped advisory lock), so when
    several processes open a new store at once one of them migrates and the others find
    it at head.
    """
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["target_metadata"] = Base.metadata
    script = ScriptDirectory.from_config(cfg)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        current = set(MigrationContext.configure(conn).get_current_heads())
        if current == {SCHEMA_HEAD}:
            return  # another process migrated it while we waited for the lock
        stamp = False
        if current:
            unknown = []
            for rev in sorted(current):
                try:
                    script.get_revision(rev)
                except CommandError:
                    unknown.append(rev)
            if unknown:
                raise StoreSchemaError(
                    f"the store at {_where(engine)} has schema revision "
                    f"{', '.join(map(repr, unknown))}, which this workbench does not know "
                    f"(its newest is {SCHEMA_HEAD!r}): a newer release made it; open it with "
                    "that release or upgrade workbench (the store was not changed)")
        else:
            ours = BASELINE_TABLES & set(inspect(conn).get_table_names())
            if ours == BASELINE_TABLES:
                stamp = True  # made by a release before migrations
            elif ours:
                raise StoreSchemaError(
                    f"the database at {_where(engine)} is neither empty nor a workbench store: "
                    f"it has the tables {', '.join(sorted(ours))} but not "
                    f"{', '.join(sorted(BASELINE_TABLES - ours))}; use an empty database or "
                    "an existing store (it was not changed)")
        cfg.attributes["connection"] = conn
        if stamp:
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, "head")


class Store:
    """Access to the store at ``url``, migrated to this release's schema when opened.

    Raises
    ------
    StoreSchemaError
        When a newer release made the store, or the database holds other tables of ours
        than a store would (nothing is changed then).
    """

    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite:///"):
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        key = f"{os.getpid()}:{url}"
        if key not in _ENGINES:
            engine = _make_engine(url)
            try:
                if not _is_at_head(engine):
                    _migrate(engine)
            except BaseException:
                engine.dispose()
                raise
            _ENGINES[key] = engine
        self.engine = _ENGINES[key]

    @classmethod
    def for_project(cls, project) -> Store:
        project.ensure_state()
        return cls(project.db_url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            yield s

    # ---------------------------------------------------------------- datasets
    def add_dataset(self, *, name: str, version: str, content_hash: str, source: str,
                    rows: int, columns: list[dict], path: str) -> tuple[DatasetVersion, bool]:
        """Record a dataset version; return ``(version, created)``. Idempotent."""
        with self.session() as s:
            row = s.scalars(select(DatasetRow).where(
                DatasetRow.name == name, DatasetRow.version == version)).first()
            if row is not None:
                return _dataset(row), False
            row = DatasetRow(name=name, version=version, content_hash=content_hash,
                             source=source, rows=rows, columns=columns, path=path)
            s.add(row)
            s.flush()
            return _dataset(row), True

    def get_dataset(self, name: str, version: str | None = None) -> DatasetVersion:
        with self.session() as s:
            q = select(DatasetRow).where(DatasetRow.name == name)
            if version:
                q = q.where(DatasetRow.version.startswith(version))
            row = s.scalars(q.order_by(DatasetRow.created.desc(), DatasetRow.id.desc())).first()
            if row is None:
                from .errors import did_you_mean
                if version:
                    versions = [r.version for r in s.scalars(
                        select(DatasetRow).where(DatasetRow.name == name))]
                    if versions:
                        raise NotFoundError(
                            f"dataset '{name}' has no version '{version}'; it has: "
                            + ", ".join(versions))
                names = sorted(set(s.scalars(select(DatasetRow.name))))
                raise NotFoundError(
                    f"no dataset named '{name}'{did_you_mean(name, names)}; stored: "
                    + (", ".join(names) if names else "none (import one with "
                       "'workbench data import')"))
            return _dataset(row)

    def list_datasets(self, name: str | None = None) -> list[DatasetVersion]:
        with self.session() as s:
            q = select(DatasetRow)
            if name:
                q = q.where(DatasetRow.name == name)
            return [_dataset(r) for r in s.scalars(q.order_by(DatasetRow.created.desc(),
                                                              DatasetRow.id.desc()))]

    # -------------------------------------------------------------------- runs
    def start_run(self, kind: str, *, name: str | None = None, config: dict | None = None,
                  input_hashes: dict | None = None, started: dt.datetime | None = None) -> int:
        """Open a run. ``started`` (naive UTC) backdates it, for work done before the run
        could be named (an evaluation's generation), so its duration is the whole job."""
        with self.session() as s:
            row = RunRow(kind=kind, name=name, config=config or {},
                         input_hashes=input_hashes or {}, outputs={}, status="running",
                         pid=os.getpid(), **({"started": started} if started else {}))
            s.add(row)
            s.flush()
            return row.id

    def finish_run(self, run_id: int, *, status: RunStatus = "succeeded",
                   outputs: dict | None = None, error: str | None = None) -> Run:
        with self.session() as s:
            row = s.get(RunRow, run_id)
            if row is None:
                raise NotFoundError(f"no run with id {run_id}")
            row.status = status
            row.finished = _now()
            row.duration_s = (row.finished - row.started).total_seconds()
            if outputs is not None:
                row.outputs = outputs
            row.error = error
            s.flush()
            return _run(row)

    def update_run(self, run_id: int, **fields: Any) -> None:
        with self.session() as s:
            row = s.get(RunRow, run_id)
            if row is None:
                raise NotFoundError(f"no run with id {run_id}")
            for k, v in fields.items():
                setattr(row, k, v)

    def get_run(self, run_id: int | str, kind: str | None = None) -> Run:
        try:
            rid = int(str(run_id).removeprefix("run:"))
        except ValueError:
            raise NotFoundError(f"'{run_id}' is not a run id (runs are numbered)") from None
        with self.session() as s:
            row = s.get(RunRow, rid)
            if row is None or (kind and row.kind != kind):
                raise NotFoundError(f"no {kind + ' ' if kind else ''}run with id {rid}")
            return _run(row)

    def list_runs(self, kind: str | None = None, *, limit: int | None = None,
                  status: str | None = None) -> list[Run]:
        with self.session() as s:
            q = select(RunRow)
            if kind:
                q = q.where(RunRow.kind == kind)
            if status:
                q = q.where(RunRow.status == status)
            q = q.order_by(RunRow.id.desc())
            if limit:
                q = q.limit(limit)
            return [_run(r) for r in s.scalars(q)]

    @contextmanager
    def record(self, kind: str, *, name: str | None = None, config: dict | None = None,
               input_hashes: dict | None = None,
               started: dt.datetime | None = None) -> Iterator[dict]:
        """Record a run around a block: yields a dict to fill with outputs.

        The run is ``succeeded`` when the block finishes, ``failed`` (with the error
        text) when it raises, and ``cancelled`` on KeyboardInterrupt or another interruption
        from outside (a ``BaseException`` that is not an error, such as Streamlit stopping
        a page's script when its button is pressed again).
        """
        run_id = self.start_run(kind, name=name, config=config, input_hashes=input_hashes,
                                started=started)
        outputs: dict = {"run_id": run_id}
        try:
            yield outputs
        except KeyboardInterrupt:
            self.finish_run(run_id, status="cancelled", outputs=outputs, error="interrupted")
            raise
        except (Exception, SystemExit) as exc:
            self.finish_run(run_id, status="failed", outputs=outputs,
                            error=f"{type(exc).__name__}: {exc}")
            raise
        except BaseException as exc:  # stopped from outside, not a failure: the app's page
            # rerun when a button is pressed again mid-run (Streamlit's StopException)
            self.finish_run(run_id, status="cancelled", outputs=outputs,
                            error=f"interrupted ({type(exc).__name__})")
            raise
        else:
            self.finish_run(run_id, status=outputs.pop("_status", "succeeded"), outputs=outputs)

    # ----------------------------------------------------------------- reports
    def add_report(self, *, kind: str, title: str, path: str, signature: str,
                   run_id: int | None = None) -> int:
        with self.session() as s:
            row = ReportRow(kind=kind, title=title, path=path, signature=signature, run_id=run_id)
            s.add(row)
            s.flush()
            return row.id

    def list_reports(self, kind: str | None = None) -> list[dict]:
        with self.session() as s:
            q = select(ReportRow)
            if kind:
                q = q.where(ReportRow.kind == kind)
            return [{"id": r.id, "kind": r.kind, "title": r.title, "path": r.path,
                     "signature": r.signature, "run_id": r.run_id, "created": r.created}
                    for r in s.scalars(q.order_by(ReportRow.id.desc()))]

    def get_report(self, report_id: int) -> dict:
        with self.session() as s:
            r = s.get(ReportRow, int(report_id))
            if r is None:
                raise NotFoundError(f"no report {report_id}")
            return {"id": r.id, "kind": r.kind, "title": r.title, "path": r.path,
                    "signature": r.signature, "run_id": r.run_id, "created": r.created}

    # ----------------------------------------------------------------- sign-offs
    def add_signoff(self, *, report_id: int, reviewer: str, decision: str,
                    comment: str | None, signatures: dict, runs: list) -> int:
        with self.session() as s:
            row = SignoffRow(report_id=int(report_id), reviewer=reviewer, decision=decision,
                             comment=comment, signatures=signatures, runs=runs)
            s.add(row)
            s.flush()
            return row.id

    def list_signoffs(self, report_id: int | None = None) -> list[dict]:
        """Sign-offs, newest first (of one report, or all)."""
        with self.session() as s:
            q = select(SignoffRow)
            if report_id is not None:
                q = q.where(SignoffRow.report_id == int(report_id))
            return [{"id": r.id, "report_id": r.report_id, "reviewer": r.reviewer,
                     "decision": r.decision, "comment": r.comment,
                     "signatures": r.signatures, "runs": r.runs, "created": r.created}
                    for r in s.scalars(q.order_by(SignoffRow.id.desc()))]

    # ----------------------------------------------------------------- lineage
    def add_lineage(self, parent: tuple[str, str | int], child: tuple[str, str | int],
                    relation: str) -> None:
        with self.session() as s:
            s.add(LineageRow(parent_type=parent[0], parent_id=str(parent[1]),
                             child_type=child[0], child_id=str(child[1]), relation=relation))

    def lineage(self, node: tuple[str, str | int]) -> dict[str, list[dict]]:
        """Edges into (``parents``) and out of (``children``) a node."""
        t, i = node[0], str(node[1])
        with self.session() as s:
            parents = s.scalars(select(LineageRow).where(
                LineageRow.child_type == t, LineageRow.child_id == i)).all()
            children = s.scalars(select(LineageRow).where(
                LineageRow.parent_type == t, LineageRow.parent_id == i)).all()
            return {
                "parents": [{"type": r.parent_type, "id": r.parent_id, "relation": r.relation}
                            for r in parents],
                "children": [{"type": r.child_type, "id": r.child_id, "relation": r.relation}
                             for r in children],
            }

    # ----------------------------------------------------------------- metrics
    def log_metrics(self, run_id: int, step: int, values: dict[str, float]) -> None:
        with self.session() as s:
            for k, v in values.items():
                s.add(MetricRow(run_id=run_id, step=int(step), key=k, value=float(v)))

    def metrics(self, run_id: int) -> list[dict]:
        with self.session() as s:
            rows = s.scalars(select(MetricRow).where(MetricRow.run_id == run_id)
                             .order_by(MetricRow.step, MetricRow.id)).all()
            return [{"step": r.step, "key": r.key, "value": r.value} for r in rows]
