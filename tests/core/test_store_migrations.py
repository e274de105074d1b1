"""Upgrades lose nothing: the store's Alembic migrations, on SQLite and PostgreSQL.

``tests/fixtures/store_v0.sql`` is a store made by the release before migrations (see
tests/fixtures/README.md). On PostgreSQL it is loaded by running that release's DDL
(``store_v0_postgresql.sql``) and inserting the same rows with SQLAlchemy Core.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, inspect, pool, select

import workbench.core.store as store_mod
from workbench.core.store import (
    BASELINE,
    BASELINE_TABLES,
    SCHEMA_HEAD,
    Store,
    StoreSchemaError,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
V0_DUMP = FIXTURES / "store_v0.sql"
V0_PG_DDL = FIXTURES / "store_v0_postgresql.sql"
# What the v0 fixture holds (tests/fixtures/README.md): checked against the dump below.
V0_RUN_KINDS = ["check", "clean", "split", "train", "evaluate", "evaluate", "compare", "probe"]

# A later revision, written into a copy of the migrations by the tests that need one
# (the project has no schema change of its own to ship yet).
REV_0002 = '''
"""test: a trigger column on runs and an alerts table."""
import sqlalchemy as sa
from alembic import op

revision = "0004_test"
down_revision = "0003_signoffs"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("trigger", sa.Text(), nullable=True))
    op.create_table("alerts", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=False),
                    sa.Column("target", sa.Text(), nullable=False))


def downgrade():
    op.drop_table("alerts")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("trigger")
'''


# ------------------------------------------------------------------------------ helpers
def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _load_v0_sqlite(path: Path) -> str:
    with closing(sqlite3.connect(path)) as con:
        con.executescript(V0_DUMP.read_text(encoding="utf-8"))
    return _sqlite_url(path)


def _v0_rows(tmp_path: Path) -> dict[str, list[dict]]:
    """Every row of the fixture's store tables, read back through SQLite."""
    path = tmp_path / "v0-source.db"
    if not path.exists():
        _load_v0_sqlite(path)
    engine = create_engine(_sqlite_url(path), poolclass=pool.NullPool)
    meta = MetaData()
    meta.reflect(engine, only=sorted(BASELINE_TABLES))
    with engine.connect() as conn:
        rows = {name: [dict(r._mapping) for r in conn.execute(select(t).order_by(t.c.id))]
                for name, t in meta.tables.items()}
    engine.dispose()
    return rows


def _load_v0_postgres(url: str, tmp_path: Path) -> str:
    """The v0 store on PostgreSQL: that release's DDL, then the fixture's rows."""
    rows = _v0_rows(tmp_path)
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        for stmt in V0_PG_DDL.read_text(encoding="utf-8").split(";\n"):
            if stmt.strip():
                conn.exec_driver_sql(stmt)
        meta = MetaData()
        meta.reflect(conn)
        for table in meta.sorted_tables:
            conn.execute(table.insert(), rows[table.name])
            # as that release's own inserts would have left each id sequence
            conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                 f"(SELECT max(id) FROM {table.name}))")
    engine.dispose()
    return url


def _v0_url(backend: str, tmp_path: Path, make_pg) -> str:
    if backend == "sqlite":
        return _load_v0_sqlite(tmp_path / "v0.db")
    return _load_v0_postgres(make_pg(), tmp_path)


def _new_url(backend: str, tmp_path: Path, make_pg, name: str = "new.db") -> str:
    return _sqlite_url(tmp_path / name) if backend == "sqlite" else make_pg()


def _versions(url: str) -> list[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return sorted(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())
    finally:
        engine.dispose()


def _run_names(url: str) -> list:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.exec_driver_sql("SELECT name FROM runs ORDER BY id").scalars())
    finally:
        engine.dispose()


def _schema(url: str, skip: frozenset[str] = frozenset({"alembic_version"})) -> dict:
    """Tables, columns, keys, indexes and constraints as the database reports them."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        insp = inspect(engine)
        out = {}
        for t in sorted(set(insp.get_table_names()) - skip):
            out[t] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"], c.get("default"))
                            for c in insp.get_columns(t)],
                "pk": insp.get_pk_constraint(t)["constrained_columns"],
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                  for i in insp.get_indexes(t)),
                "unique": sorted((u["name"], tuple(u["column_names"]))
                                 for u in insp.get_unique_constraints(t)),
                "fks": sorted((f["name"], tuple(f["constrained_columns"]), f["referred_table"],
                               tuple(f["referred_columns"])) for f in insp.get_foreign_keys(t)),
            }
        return out
    finally:
        engine.dispose()


def _sqlite_master(path: Path) -> set[tuple]:
    with closing(sqlite3.connect(path)) as con:
        return set(con.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name IN "
            f"({', '.join('?' * len(BASELINE_TABLES))})", sorted(BASELINE_TABLES)))


def _alembic_upgrade(url: str, target: str) -> None:
    """Run the shipped migrations up to ``target`` with Alembic alone (no Store)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(store_mod.MIGRATIONS_DIR))
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)
    engine.dispose()


@pytest.fixture
def fresh_engines(monkeypatch):
    """An empty engine cache, so a URL this process opened before is opened (and
    checked) again, as a new process would."""
    monkeypatch.setattr(store_mod, "_ENGINES", {})


@pytest.fixture
def with_0002(tmp_path, monkeypatch, fresh_engines):
    """The shipped migrations plus a later revision, as the store's migrations."""
    scripts = tmp_path / "migrations"
    shutil.copytree(store_mod.MIGRATIONS_DIR, scripts,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0004_test.py").write_text(REV_0002, encoding="utf-8")
    monkeypatch.setattr(store_mod, "MIGRATIONS_DIR", scripts)
    monkeypatch.setattr(store_mod, "SCHEMA_HEAD", "0004_test")
    return scripts


backends = pytest.mark.parametrize("backend", ["sqlite", "postgresql"])


@pytest.fixture
def make_pg(request):
    """``make_postgres_db``, started only by the PostgreSQL cases."""
    def make() -> str:
        return request.getfixturevalue("make_postgres_db")()
    return make


def _n_revisions() -> int:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(store_mod.MIGRATIONS_DIR))
    return len(list(ScriptDirectory.from_config(cfg).walk_revisions()))


# -------------------------------------------------------------------------------- tests
def test_schema_head_is_the_single_newest_revision():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(store_mod.MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(cfg)
    assert script.get_heads() == [SCHEMA_HEAD]
    assert script.get_bases() == [BASELINE]
    assert store_mod.MIGRATIONS_DIR == Path(store_mod.__file__).resolve().parent / "migrations"


def test_fixture_is_what_its_note_says(tmp_path):
    rows = _v0_rows(tmp_path)
    assert [r["kind"] for r in rows["runs"]] == V0_RUN_KINDS
    assert {k: len(v) for k, v in rows.items()} == {
        "datasets": 2, "runs": 8, "lineage": 10, "run_metrics": 52, "verdicts": 2, "reports": 2}
    assert "alembic_version" not in V0_DUMP.read_text(encoding="utf-8")


@backends
def test_new_store_is_created_at_head_matching_the_models(backend, tmp_path, make_pg):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    url = _new_url(backend, tmp_path, make_pg)
    store = Store(url)
    assert _versions(url) == [SCHEMA_HEAD]
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), store_mod.Base.metadata) == []
    rid = store.start_run("check", name="first")
    assert store.get_run(rid).name == "first"


def test_baseline_is_exactly_the_schema_of_the_release_before_migrations_sqlite(tmp_path):
    old = tmp_path / "v0.db"
    _load_v0_sqlite(old)
    new = tmp_path / "baseline.db"
    _alembic_upgrade(_sqlite_url(new), BASELINE)
    # the CREATE TABLE / CREATE INDEX text SQLite keeps, statement for statement
    assert _sqlite_master(new) == _sqlite_master(old)
    # 6 tables, 10 indexes and the automatic index of UNIQUE (name, version)
    assert len(_sqlite_master(old)) == len(BASELINE_TABLES) + 10 + 1


def test_baseline_is_exactly_the_schema_of_the_release_before_migrations_postgresql(
        tmp_path, make_postgres_db):
    old = make_postgres_db()
    engine = create_engine(old, poolclass=pool.NullPool)
    with engine.begin() as conn:
        for stmt in V0_PG_DDL.read_text(encoding="utf-8").split(";\n"):
            if stmt.strip():
                conn.exec_driver_sql(stmt)
    engine.dispose()
    new = make_postgres_db()
    _alembic_upgrade(new, BASELINE)
    want = _schema(old)
    assert set(want) == BASELINE_TABLES
    assert _schema(new) == want


@backends
def test_store_made_before_migrations_opens_with_every_run_verdict_and_report(
        backend, tmp_path, make_pg, project, monkeypatch):
    from workbench.review import summarize, verdicts

    rows = _v0_rows(tmp_path)
    if backend == "sqlite":  # the old project's own store file
        _load_v0_sqlite(project.state / "store.db")
        url = project.db_url
    else:
        url = _load_v0_postgres(make_pg(), tmp_path)
        monkeypatch.setenv("WORKBENCH_DB_URL", url)
    store = Store.for_project(project)
    assert store.engine.dialect.name == backend
    assert _versions(url) == [SCHEMA_HEAD]

    runs = sorted(store.list_runs(), key=lambda r: r.id)
    assert [r.kind for r in runs] == V0_RUN_KINDS
    for run, row in zip(runs, rows["runs"], strict=True):
        assert (run.id, run.name, run.status, run.config, run.input_hashes, run.outputs,
                run.started, run.finished, run.duration_s, run.error, run.pid) == (
            row["id"], row["name"], row["status"], row["config"], row["input_hashes"],
            row["outputs"], row["started"], row["finished"], row["duration_s"], row["error"],
            row["pid"])
    assert [(d.name, d.version, d.rows, d.columns) for d in store.list_datasets()][::-1] == [
        (r["name"], r["version"], r["rows"], r["columns"]) for r in rows["datasets"]]
    reports = store.list_reports()[::-1]
    assert [(r["kind"], r["title"], r["path"], r["signature"], r["run_id"]) for r in reports] == [
        (r["kind"], r["title"], r["path"], r["signature"], r["run_id"]) for r in rows["reports"]]
    for run in runs:  # 40 metric rows of the training run, 5 per evaluation, 2 of the probe
        assert store.metrics(run.id) == [
            {"step": m["step"], "key": m["key"], "value": m["value"]}
            for m in sorted(rows["run_metrics"], key=lambda m: (m["step"], m["id"]))
            if m["run_id"] == run.id]
    assert sum(len(store.metrics(r.id)) for r in runs) == 52
    assert len(store.metrics(4)) == 40
    assert store.lineage(("run", 3))["children"] == [
        {"type": "run", "id": str(i), "relation": rel}
        for i, rel in ((4, "train"), (5, "evaluated-on"), (6, "evaluated-on"))]

    a, b = rows["verdicts"][0]["run_a"], rows["verdicts"][0]["run_b"]
    got = [(v.item, v.verdict, v.reviewer, v.note if isinstance(v.note, str) else None,
            v.time.to_pydatetime()) for v in verdicts(project, a, b).itertuples()]
    assert got == [(r["item"], r["verdict"], r["reviewer"], r["note"], r["created"])
                   for r in rows["verdicts"]]
    assert [g[2] for g in got] == ["ana", "ben"]
    summary = summarize(project, a, b)
    assert (summary.items, summary.counts["b_better"], summary.counts["tie"]) == (2, 1, 1)

    # and the upgraded store keeps working: the next run takes the next id
    assert store.start_run("check", name="after upgrade") == 9
    if backend == "sqlite":  # APScheduler's table shares the file and was left alone
        from workbench.checks import list_jobs

        [job] = list_jobs(project)
        assert job.command[:2] == ["check", "support_clean"]


@backends
def test_store_at_an_older_revision_is_upgraded(backend, tmp_path, make_pg, with_0002):
    # a store made by the release before migrations, and one at the baseline revision
    old = _v0_url(backend, tmp_path, make_pg)
    at_baseline = _new_url(backend, tmp_path, make_pg, "baseline.db")
    _alembic_upgrade(at_baseline, BASELINE)
    for url, n_runs in ((old, 8), (at_baseline, 0)):
        store = Store(url)
        assert _versions(url) == ["0004_test"]
        runs = store.list_runs()
        assert len(runs) == n_runs
        rid = store.start_run("schedule")
        with store.engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE runs SET trigger = 'job:x' WHERE id = {rid}")
            assert conn.exec_driver_sql("SELECT count(*) FROM alerts").scalar() == 0
            triggers = conn.exec_driver_sql("SELECT trigger FROM runs ORDER BY id").scalars()
            assert list(triggers) == [None] * n_runs + ["job:x"]


@backends
def test_store_from_a_newer_release_is_refused_and_left_unchanged(
        backend, tmp_path, make_pg, with_0002, monkeypatch):
    url = _v0_url(backend, tmp_path, make_pg)
    shown = url
    if backend == "postgresql":  # (the test server trusts any password) never print it
        url = url.replace("postgres@", "postgres:s3cret@")
        shown = url.replace("s3cret", "***")
    Store(url).start_run("check", name="made by the newer release")
    before = (_schema(url), _versions(url), _run_names(url))
    assert before[1] == ["0004_test"] and len(before[2]) == 9
    monkeypatch.undo()  # back to this release's migrations, and a fresh engine cache
    assert store_mod.SCHEMA_HEAD == SCHEMA_HEAD != "0004_test"
    monkeypatch.setattr(store_mod, "_ENGINES", {})
    with pytest.raises(StoreSchemaError, match=(
            rf"^the store at {re.escape(shown)} has schema revision '0004_test', "
            rf"which this workbench does not know \(its newest is '{SCHEMA_HEAD}'\): a newer "
            r"release made it; open it with that release or upgrade workbench \(the store "
            r"was not changed\)$")):
        Store(url)
    assert (_schema(url), _versions(url), _run_names(url)) == before
    assert not store_mod._ENGINES


def test_newer_store_is_one_line_exit_2_on_the_command_line(project, with_0002):
    from tests.conftest import run_cli

    Store(project.db_url).start_run("check")  # made by the "newer" release
    proc = run_cli("runs", "list", cwd=project.root)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "has schema revision '0004_test', which this workbench does not know" in lines[0]
    assert _versions(project.db_url) == ["0004_test"]


@backends
def test_database_with_only_some_store_tables_is_refused(backend, tmp_path, make_pg):
    url = _new_url(backend, tmp_path, make_pg)
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE runs (id INTEGER PRIMARY KEY, what TEXT)")
    engine.dispose()
    with pytest.raises(StoreSchemaError, match=(
            r"^the database at .+ is neither empty nor a workbench store: it has the tables "
            r"runs but not datasets, lineage, reports, run_metrics, verdicts; use an empty "
            r"database or an existing store \(it was not changed\)$")):
        Store(url)
    assert list(_schema(url)) == ["runs"]


@backends
def test_other_tables_in_the_database_are_left_alone(backend, tmp_path, make_pg):
    url = _new_url(backend, tmp_path, make_pg)
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE workbench_schedule (id VARCHAR(191) PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO workbench_schedule VALUES ('job-1')")
    engine.dispose()
    Store(url).start_run("x")
    assert set(_schema(url)) == BASELINE_TABLES | {"signoffs", "workbench_schedule"}
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT id FROM workbench_schedule").scalar() == "job-1"
    engine.dispose()


_OPEN_AT_HEAD = textwrap.dedent("""
    import json, sys
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    seen = []
    event.listen(Engine, "before_cursor_execute",
                 lambda conn, cur, stmt, *a: seen.append(stmt))
    from workbench.core.store import Store

    store = Store(sys.argv[1])
    print(json.dumps({"alembic": "alembic" in sys.modules,
                      "sql": [s for s in seen if not s.startswith(("PRAGMA", "BEGIN"))]}))
""")


@backends
def test_opening_a_store_at_head_reads_alembic_version_once_without_alembic(
        backend, tmp_path, make_pg):
    url = _new_url(backend, tmp_path, make_pg)
    Store(url)
    script = tmp_path / "open_at_head.py"
    script.write_text(_OPEN_AT_HEAD, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script), url], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.splitlines()[-1])
    assert got["alembic"] is False
    # PostgreSQL's dialect asks the server a few things when the engine first connects
    extra = ["select pg_catalog.version()", "select current_schema()",
             "show transaction isolation level", "show standard_conforming_strings"]
    assert [s for s in got["sql"] if s not in extra] == ["SELECT version_num FROM alembic_version"]


def test_help_does_not_import_alembic(tmp_path):
    script = tmp_path / "help.py"
    script.write_text(textwrap.dedent("""
        import contextlib, io, os, sys
        os.environ["_WORKBENCH_NO_EXIT"] = "1"
        from workbench.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as out:
            rc = main(["--help"])
        print(rc, "Usage" in out.getvalue(), "alembic" in sys.modules)
    """), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-3:] == ["0", "True", "False"]


def _open_at_once(url: str, barrier, i: int, q) -> None:
    import logging

    class Count(logging.Handler):
        n = 0

        def emit(self, record):
            if record.getMessage().startswith(("Running upgrade", "Running stamp")):
                Count.n += 1

    logging.getLogger("alembic.runtime.migration").addHandler(Count())
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)
    try:
        from workbench.core.store import Store

        barrier.wait(timeout=240)  # all processes open the store together
        store = Store(url)
        store.start_run("open", name=f"p{i}")
        q.put(("ok", Count.n))
    except Exception as exc:  # noqa: BLE001 - report to the parent
        q.put(("error", f"{type(exc).__name__}: {exc}"))


@pytest.mark.slow
@backends
@pytest.mark.parametrize("made_by", ["nothing", "v0"])
def test_eight_processes_opening_one_store_at_once_migrate_it_once(
        backend, made_by, tmp_path, make_pg):
    url = (_new_url(backend, tmp_path, make_pg) if made_by == "nothing"
           else _v0_url(backend, tmp_path, make_pg))
    ctx = mp.get_context("spawn")
    q, barrier = ctx.Queue(), ctx.Barrier(8)
    procs = [ctx.Process(target=_open_at_once, args=(url, barrier, i, q)) for i in range(8)]
    for p in procs:
        p.start()
    results = [q.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [r for r in results if r[0] == "error"] == []
    # all in one process: a new store runs every revision; the old one is stamped as the
    # baseline, then runs every revision after it
    steps = sorted(n for _, n in results)
    assert steps == [0] * 7 + [_n_revisions()]
    assert _versions(url) == [SCHEMA_HEAD]
    store = Store(url)
    assert sorted(r.name for r in store.list_runs("open")) == [f"p{i}" for i in range(8)]
    assert len(store.list_runs()) == 8 + (8 if made_by == "v0" else 0)


@pytest.mark.slow
def test_wheel_ships_the_migrations(tmp_path):
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "dist"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "-w", str(out), str(root)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(out.glob("workbench-*.whl"))
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.relative_to(root).as_posix()
               for p in store_mod.MIGRATIONS_DIR.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert "workbench/core/migrations/versions/0001_baseline.py" in shipped
    assert shipped <= names
    site = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target",
                           str(site), str(wheel)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    script = tmp_path / "open.py"
    script.write_text("import sys, workbench.core.store as s; s.Store(sys.argv[1]); "
                      "print(s.__file__)\n", encoding="utf-8")
    url = _sqlite_url(tmp_path / "w.db")
    proc = subprocess.run([sys.executable, str(script), url], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(site)}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith(str(site))
    assert _versions(url) == [SCHEMA_HEAD]
