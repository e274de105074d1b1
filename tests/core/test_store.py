from __future__ import annotations

import multiprocessing as mp

import pytest

from workbench.core.store import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, project, monkeypatch) -> str:
    """Run a test on the project's SQLite file, then on a new PostgreSQL database."""
    if request.param == "postgresql":
        monkeypatch.setenv("WORKBENCH_DB_URL", request.getfixturevalue("make_postgres_db")())
    return request.param


def _writer(url: str, worker: int, n: int, q) -> None:
    try:
        store = Store(url)
        for i in range(n):
            rid = store.start_run("stress", name=f"w{worker}-{i}", config={"worker": worker, "i": i})
            store.log_metrics(rid, i, {"loss": 1.0 / (i + 1)})
            store.finish_run(rid, outputs={"i": i})
        q.put(("ok", worker))
    except Exception as exc:  # noqa: BLE001 - report to the parent
        q.put(("error", f"{type(exc).__name__}: {exc}"))


@pytest.mark.slow
def test_eight_processes_fifty_runs_each_lose_nothing(project, backend):
    store = Store.for_project(project)
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(store.url, w, 50, q)) for w in range(8)]
    for p in procs:
        p.start()
    results = [q.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [r for r in results if r[0] == "error"]
    assert not errors, errors
    runs = store.list_runs("stress")
    assert len(runs) == 400
    assert all(r.status == "succeeded" for r in runs)
    assert len({r.name for r in runs}) == 400
    assert sum(len(store.metrics(r.id)) for r in runs) == 400
    if backend == "sqlite":
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    else:
        assert store.engine.dialect.name == "postgresql"


def test_runs_record_everything(project, backend):
    store = Store.for_project(project)
    assert store.engine.dialect.name == backend
    rid = store.start_run("check", name="demo", config={"suite": "s"}, input_hashes={"data": "abc"})
    run = store.finish_run(rid, status="failed", outputs={"n": 1}, error="boom")
    assert (run.kind, run.status, run.error, run.outputs) == ("check", "failed", "boom", {"n": 1})
    assert run.duration_s is not None and run.duration_s >= 0
    assert store.get_run(rid).input_hashes == {"data": "abc"}
    store.add_lineage(("dataset", "d@1"), ("run", rid), "input")
    assert store.lineage(("run", rid))["parents"] == [{"type": "dataset", "id": "d@1", "relation": "input"}]


def test_db_url_from_environment(tmp_path, monkeypatch, project):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("WORKBENCH_DB_URL", url)
    store = Store.for_project(project)
    assert store.url == url
    store.start_run("x")
    assert (tmp_path / "elsewhere.db").exists()
    assert not (project.state / "store.db").exists()


@pytest.mark.parametrize("bad, match", [("nope", "not a run id"), ("999", "no run with id 999")])
def test_unknown_run(project, backend, bad, match):
    from workbench.core.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match=match):
        Store.for_project(project).get_run(bad)
