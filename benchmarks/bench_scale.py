"""Scale-out rows: a check on Spark local[2] against the pandas engine (wall time and peak
memory of each process tree), generation over 2 processes against 1, and training
throughput over 2 processes against 1.

    WORKBENCH_BENCH_SCALE_ROWS=10000000 .venv/bin/python benchmarks/run.py scale

The row count defaults to 500,000 (10M needs several GB for the pandas engine); the
note on each row says exactly what ran.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import BIN, ROOT, Row

ROWS_N = int(os.environ.get("WORKBENCH_BENCH_SCALE_ROWS", "500000"))
SUITE = """\
name: scale
expectations:
  - type: expect_table_row_count_to_be_between
    min_value: 1
  - type: expect_column_values_to_not_be_null
    column: question
  - type: expect_column_values_to_be_in_set
    column: topic
    value_set: [billing, shipping, setup, weather]
  - type: expect_column_value_lengths_to_be_between
    column: question
    min_value: 3
    max_value: 80
  - type: expect_column_values_to_be_between
    column: score
    min_value: 0
    max_value: 1
"""


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for q in procs:
        try:
            total += q.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def _run_measured(argv: list[str], env: dict, cwd: Path) -> tuple[float, int, int]:
    """Wall time, peak RSS of the whole process tree (sampled every 50 ms), exit code."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.05)
    err = proc.stderr.read()
    if proc.returncode not in (0, 1):
        raise RuntimeError(err[-2000:])
    return time.perf_counter() - t0, peak, proc.returncode


def _data(folder: Path, n: int) -> Path:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    out = folder / "data"
    out.mkdir()
    chunk = 1_000_000
    for k, start in enumerate(range(0, n, chunk)):
        m = min(chunk, n - start)
        pd.DataFrame({
            "id": np.arange(start, start + m),
            "question": rng.choice(["How do I pay?", "Where is my parcel?", "Will it rain?",
                                    "Why is my screen blank after the update?", None], m),
            "topic": rng.choice(["billing", "shipping", "setup", "weather", "other"], m),
            "score": rng.random(m) * 1.01,
        }).to_parquet(out / f"part-{k:04d}.parquet", index=False)
    # the pandas engine reads one file, not a folder
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq

    pq.write_table(pads.dataset(str(out)).to_table(), folder / "data.parquet")
    return out


def scale_check_spark_vs_pandas():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run([str(BIN / "workbench"), "init", str(tmp / "p")], check=True,
                       capture_output=True)
        data = _data(tmp, ROWS_N)
        (tmp / "suite.yaml").write_text(SUITE)
        env = {**os.environ, "WORKBENCH_PROJECT": str(tmp / "p")}
        opts = ["--suite", str(tmp / "suite.yaml"), "--no-data-docs", "--html",
                str(tmp / "r.html")]
        check = [str(BIN / "workbench"), "check"]
        s_t, s_mem, s_rc = _run_measured(check + [str(data), *opts, "--engine", "spark",
                                                  "--spark-master", "local[2]"], env, tmp)
        p_t, p_mem, p_rc = _run_measured(check + [str(tmp / "data.parquet"), *opts,
                                                  "--engine", "pandas"], env, tmp)
        assert s_rc == p_rc
    note = (f"{ROWS_N:,} rows x 4 cols, 5 GE rules; peak RSS of the process tree: spark "
            f"{s_mem / 2**20:,.0f} MB (driver JVM + python), pandas {p_mem / 2**20:,.0f} MB; "
            "both include start-up (JVM ~10-40 s here)")
    return [Row(f"scale: check {ROWS_N / 1e6:g}M rows", "spark local[2]", "pandas engine",
                s_t, p_t, note)]


GEN = """\
import json, sys
from workbench.generation import generate, GenerationSettings
from workbench.core.project import Project
prompts = [f"Question {i}: will it rain on day {i % 7}?" for i in range(int(sys.argv[2]))]
out = generate(Project(__import__('pathlib').Path(sys.argv[1])), "tiny:gpt2", prompts,
               settings=GenerationSettings(max_new_tokens=24, batch_size=8),
               across_processes=True, use_cache=False, progress=lambda d, t: None)
"""


def scale_generation_two_vs_one_process():
    from workbench.models import launch_command

    n = 256
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run([str(BIN / "workbench"), "init", str(tmp / "p")], check=True,
                       capture_output=True)
        subprocess.run([str(BIN / "workbench"), "--project", str(tmp / "p"), "models",
                        "prepare", "tiny:gpt2"], check=True, capture_output=True)
        script = tmp / "gen.py"
        script.write_text(GEN)
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(script), str(tmp / "p"), str(n)], env=env,
                       check=True, capture_output=True)
        one = time.perf_counter() - t0
        argv, extra = launch_command([str(script), str(tmp / "p"), str(n)], num_processes=2)
        t0 = time.perf_counter()
        subprocess.run(argv, env={**env, **extra}, check=True, capture_output=True)
        two = time.perf_counter() - t0
    return [Row("scale: generate 256 prompts", "2 processes (accelerate)", "1 process",
                two, one, "tiny:gpt2, 24 new tokens, 1 thread per process, start-up included")]


TRAIN_STEPS, TRAIN_BATCH = 30, 8


def scale_training_two_vs_one_process():
    """Trainer samples/s of `workbench train --launch accelerate --num-processes 2` / one
    plain `workbench train` (same config: each process takes the batch, so 2 processes see
    twice the samples in the same steps). Times are seconds per 1,000 samples."""
    import yaml
    from bench_train import _project

    project = _project()
    cfg = {"model": "tiny:gpt2", "method": "full", "data": {
        "split": "support", "prompt": "question", "response": "answer", "eval_part": "none"},
        "training": {"batch_size": TRAIN_BATCH, "max_length": 64, "learning_rate": 1e-4,
                     "max_steps": TRAIN_STEPS, "logging_steps": 10, "save_steps": 1000,
                     "eval_at_start": False, "seed": 0}}
    path = project.root / "ddp.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    base = [str(BIN / "workbench"), "--project", str(project.root), "train", str(path)]
    out, walls = {}, {}
    for label, extra, threads in (
            ("one", [], {}), ("one-1t", [], {"OMP_NUM_THREADS": "1"}),
            ("two", ["--launch", "accelerate", "--num-processes", "2"], {})):
        t0 = time.perf_counter()
        proc = subprocess.run(base + extra + ["--json", "-"], env={**env, **threads},
                              capture_output=True, text=True)
        walls[label] = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        out[label] = json.loads(proc.stdout)
    assert out["two"]["processes"] == 2 and out["one"]["processes"] == 1
    one, two = out["one"]["samples_per_s"], out["two"]["samples_per_s"]
    note = (f"tiny:gpt2 full fine-tune, {TRAIN_STEPS} steps x batch {TRAIN_BATCH} per process; "
            f"Trainer samples/s: 2 processes {two:.1f} (1 thread each, gloo), 1 process "
            f"{one:.1f} ({out['one']['device'].get('threads')} threads), 1 process with 1 "
            f"thread {out['one-1t']['samples_per_s']:.1f}; wall time with "
            f"start-up {walls['two']:.0f} s / {walls['one']:.0f} s")
    return [Row("scale: train samples/s, 2 vs 1 proc", "2 processes (accelerate)", "1 process",
                1000 / two, 1000 / one, note)]


ROWS = [scale_check_spark_vs_pandas, scale_generation_two_vs_one_process,
        scale_training_two_vs_one_process]
