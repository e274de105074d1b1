"""Generation across 2 real processes (accelerate launch, gloo on CPU) with tiny:gpt2:
outputs in input order equal to one process under greedy decoding; the shared cache holds
one consistent row per prompt after several processes wrote it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from workbench.core.errors import ConfigError, WorkbenchError
from workbench.generation import (
    GenerationCache,
    GenerationSettings,
    cache_for,
    generate,
)
from workbench.models import launch_command, model_fingerprint, prepare_model

HERE = Path(__file__).resolve().parent
PROMPTS = ["How do I reset my station?", "Will it rain", "Hi", "Where is my order? It has "
           "been two weeks.", "Will it rain", "The battery", "Why is my screen blank?",
           "Can I change my email?", "", "Thanks"]


@pytest.mark.slow
def test_two_processes_match_one_process_and_share_the_cache(project, tmp_path):
    prompts_file = tmp_path / "prompts.json"
    prompts_file.write_text(json.dumps(PROMPTS))
    argv, env = launch_command([str(HERE / "_generate_worker.py"), str(project.root),
                                str(tmp_path), str(prompts_file)], num_processes=2)
    proc = subprocess.run(argv, env={**os.environ, **env,
                                     "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert [r["state_processes"] for r in ranks] == [2, 2]
    assert ranks[0]["backend"] == "gloo"

    greedy8 = GenerationSettings(max_new_tokens=8, batch_size=3)
    greedy5 = GenerationSettings(max_new_tokens=5, batch_size=2)
    single8 = generate(project, "tiny:gpt2", PROMPTS, settings=greedy8, use_cache=False,
                       progress=lambda d, t: None)
    single5 = generate(project, "tiny:gpt2", PROMPTS, settings=greedy5, use_cache=False,
                       progress=lambda d, t: None)
    for r in ranks:
        assert r["sharded"] == single8  # input order, duplicates included
        assert r["overlap"] == single5
    assert single8[1] == single8[4]

    fp = model_fingerprint(prepare_model(project, "tiny:gpt2"))
    cache = cache_for(project)
    for settings, expected in ((greedy8, single8), (greedy5, single5)):
        keys = [GenerationCache.key(fp, settings, p) for p in PROMPTS]
        stored = cache.get_many(keys)
        assert len(stored) == len(set(PROMPTS))
        assert [stored[k] for k in keys] == expected
    with sqlite3.connect(cache.path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT COUNT(*) FROM gen").fetchone()[0] == 2 * len(set(PROMPTS))


def test_single_process_falls_back_to_plain_generate(project):
    s = GenerationSettings(max_new_tokens=3)
    a = generate(project, "tiny:gpt2", ["Hi", "Hi", "Yo"], settings=s, across_processes=True,
                 progress=lambda d, t: None)
    assert a == generate(project, "tiny:gpt2", ["Hi", "Hi", "Yo"], settings=s,
                         use_cache=False, progress=lambda d, t: None)


@pytest.mark.parametrize("kwargs, match", [
    ({"num_processes": 0}, r"num processes: must be an integer >= 1; got 0"),
    ({"num_processes": 2, "config_file": "/nope.yaml"},
     r"accelerate config: no such file /nope.yaml"),
])
def test_launch_command_bad_input(kwargs, match):
    with pytest.raises(WorkbenchError, match=match):
        launch_command(["x.py"], **kwargs)


# ------------------------------------------------------------------ training, 2 processes
from tests.train.test_train import base_config, tproj, write_cfg  # noqa: E402,F401 - shared fixtures


@pytest.mark.slow
def test_train_two_processes_records_one_run(tproj, tmp_path):
    from collections import Counter

    from tests.conftest import run_cli
    from workbench.core.store import Store

    store = Store.for_project(tproj)
    before = {r.id for r in store.list_runs("train")}
    cfg = base_config(**{"name": "ddp-tiny", "training.max_steps": 6, "training.save_steps": 3,
                         "training.eval_steps": 3, "training.keep_checkpoints": True})
    path = write_cfg(tmp_path, cfg)
    proc = run_cli("--project", str(tproj.root), "train", str(path), "--launch", "accelerate",
                   "--num-processes", "2", "--json", "-", timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout)  # stdout holds only the JSON: the processes print to stderr
    assert "trained run:" in proc.stderr and "2 processes" in proc.stderr
    new = [r for r in store.list_runs("train") if r.id not in before]
    assert [r.id for r in new] == [res["run_id"]]  # exactly one run, written by rank 0
    run = new[0]
    assert run.status == "succeeded" and run.name == "ddp-tiny"
    assert res["processes"] == run.outputs["processes"] == 2  # the Trainer's world size
    assert res["steps"] == 6
    assert res["eval_loss_end"] < res["eval_loss_start"]
    losses = [m["value"] for m in store.metrics(run.id) if m["key"] == "loss"]
    assert len(losses) == 6 and losses[-1] < losses[0]
    # one row per (step, key): no process but rank 0 logged
    counts = Counter((m["step"], m["key"]) for m in store.metrics(run.id)
                     if m["key"] in ("loss", "eval_loss", "grad_norm", "learning_rate"))
    assert len(counts) == 6 * 3 + 3 and set(counts.values()) == {1}
    parents = store.lineage(("run", run.id))["parents"]
    assert [e["relation"] for e in parents] == ["train"]
    ck = Path(res["checkpoint"])
    assert (ck / "README.md").exists() and (ck / "model.safetensors").exists()
    # Trainer checkpoints in the one run folder (each rank adds its own RNG state file)
    saved = sorted(p.name for p in (tproj.runs_dir / str(run.id) / "trainer").glob("checkpoint-*"))
    assert saved == ["checkpoint-3", "checkpoint-6"]
    assert {p.name for p in (tproj.runs_dir / str(run.id) / "trainer" / "checkpoint-6").glob(
        "rng_state_*.pth")} == {"rng_state_0.pth", "rng_state_1.pth"}


@pytest.mark.parametrize("launch, n, cfg_file, lr, match", [
    ("accelerate", 0, None, False, r"^--num-processes: must be an integer >= 1; got 0$"),
    ("mpi", 2, None, False, r"^--launch: unknown launcher 'mpi'; choose accelerate or torchrun$"),
    ("acelerate", 2, None, False, r"^--launch: unknown launcher 'acelerate' \(did you mean "
                                  r"'accelerate'\?\)"),
    ("accelerate", None, None, False, r"^--launch: needs --num-processes N"),
    (None, 2, None, False, r"^--num-processes: needs --launch accelerate or --launch torchrun$"),
    ("torchrun", 2, "a.yaml", False, r"^--accelerate-config: only with --launch accelerate$"),
    ("accelerate", 2, None, True, r"^--launch: runs training; run --lr-search in one process$"),
])
def test_train_launch_bad_values(launch, n, cfg_file, lr, match):
    from workbench.cli.train import _check_launch

    with pytest.raises(ConfigError, match=match):
        _check_launch(launch, n, cfg_file, lr)


def test_train_launch_bad_values_exit_2(project, tmp_path):
    from tests.conftest import run_cli

    path = write_cfg(tmp_path, base_config())
    for extra, line in ((["--launch", "accelerate", "--num-processes", "0"],
                         "error: --num-processes: must be an integer >= 1; got 0"),
                        (["--launch", "slurm", "--num-processes", "2"],
                         "error: --launch: unknown launcher 'slurm'; choose accelerate or "
                         "torchrun")):
        proc = run_cli("--project", str(project.root), "train", str(path), *extra, timeout=60)
        assert proc.returncode == 2 and proc.stderr.strip() == line, proc.stderr
