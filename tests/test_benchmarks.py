"""The benchmarks still run against the library as it is: every module loads, and the
training benchmark's project (a real import and split of the demo data) is made the way
the library now takes it. A changed signature used to surface only in a full bench run."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_benchmark_loads_and_the_training_project_is_made(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import run

    names = {fn.__name__ for fn in run.load_rows()}
    assert {"check_vs_pandas", "train_tiny", "generation_batched_vs_single"} <= names
    from workbench.splits import list_splits

    project = sys.modules["bench_train"]._project(copy_model=False)
    [split] = list_splits(project)
    assert split.config.get("label") == "persona", split.config
