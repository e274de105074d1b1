"""Bias probes: our vectorised sign-flip test against scipy's permutation_test, a whole
probe report's statistics against one scipy test, ``workbench probe`` against its generation
alone, and K samples against K times one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from run import BIN, Row, time_call


def sign_flip_vs_scipy():
    import scipy.stats

    from workbench.probes._stats import sign_flip_test

    d = np.random.default_rng(0).normal(0.3, 1, 30)
    ours = time_call(lambda: sign_flip_test(d, n_permutations=50000))
    ref = time_call(lambda: scipy.stats.permutation_test(
        (d, np.zeros_like(d)), lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples", vectorized=True, n_resamples=50000, random_state=0))
    return [Row("probes: sign-flip test (30 ctx)", "workbench sign_flip_test",
                "scipy permutation_test (paired)", ours, ref, "50000 flips each, median of 5")]


def report_stats_vs_scipy():
    import scipy.stats

    from workbench.probes import compare_groups

    rng = np.random.default_rng(1)
    groups = [f"g{i}" for i in range(6)]
    n_ctx, phrases = 30, 3
    g = [x for _ in range(n_ctx) for x in groups for _ in range(phrases)]
    c = [k for k in range(n_ctx) for _ in groups for _ in range(phrases)]
    s = rng.normal(0, 1, len(g))
    ours = time_call(lambda: compare_groups(g, c, s), repeat=3)
    d = rng.normal(0, 1, n_ctx)
    ref = time_call(lambda: scipy.stats.permutation_test(
        (d, np.zeros_like(d)), lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples", vectorized=True, n_resamples=5000, random_state=0))
    return [Row("probes: full report stats", "compare_groups, 6 groups x 30 ctx (15 pairs)",
                "one scipy paired permutation_test", ours, ref,
                "group CIs, 15 tests, CIs, Holm")]


SPEC = os.environ.get("WORKBENCH_BENCH_PROBE_MODEL", "packaged:smollm2-135m-instruct")
_GEN_ONLY = """
import sys
from workbench.core.project import find_project
from workbench.generation import GenerationSettings, generate
from workbench.probes import resolve_probes
p = find_project(sys.argv[1])
plan = resolve_probes(p, "gender")
generate(p, sys.argv[2], [x.text for x in plan.prompts], use_cache=False,
         settings=GenerationSettings(max_new_tokens=32, chat=True), progress=lambda d, t: None)
"""


def _fresh_project(tmp: str):
    from workbench.core.project import init_project
    from workbench.models import prepare_model

    project = init_project(Path(tmp) / "p")
    prepare_model(project, SPEC)  # the one-off conversion into the model cache is not timed
    return project


def _timed(argv, **kw) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kw)
    if proc.returncode not in (0, 1):  # 1: flagged
        raise RuntimeError(proc.stderr[-2000:])
    return time.perf_counter() - t0


def probe_vs_generation():
    """``workbench probe`` of the gender set on SmolLM2 against its generation alone, both
    fresh processes with an empty generation cache."""
    from workbench.probes import resolve_probes

    with tempfile.TemporaryDirectory() as tmp:
        project = _fresh_project(tmp)
        n = len(resolve_probes(project, "gender").prompts)
        env = {**os.environ, "WORKBENCH_PROJECT": str(project.root)}
        load0 = os.getloadavg()[0]
        t_gen = _timed([sys.executable, "-c", _GEN_ONLY, str(project.root), SPEC], env=env,
                       cwd=project.root)
        t_probe = _timed([str(BIN / "workbench"), "probe", "--model", SPEC, "--probes",
                          "gender", "--json", str(Path(tmp) / "r.json")], env=env,
                         cwd=project.root)
        res = json.loads((Path(tmp) / "r.json").read_text())
    return [Row("probes: whole probe vs generation", "workbench probe --probes gender",
                "generate() of its prompts (a process)", t_probe, t_gen,
                f"SmolLM2, {n} chat prompts x 32 tokens, both processes from start-up; "
                f"{res['n_examples']} examples, verdict {res['verdict']}; "
                f"load {load0:.1f} -> {os.getloadavg()[0]:.1f}")]


def samples_vs_one():
    """K sampled completions per prompt in one call against K times one sample."""
    from workbench.generation import GenerationSettings, generate_samples
    from workbench.probes import resolve_probes

    k = 3
    with tempfile.TemporaryDirectory() as tmp:
        project = _fresh_project(tmp)
        texts = [p.text for p in resolve_probes(project, "gender").prompts][:48]
        s = GenerationSettings(max_new_tokens=32, chat=True, do_sample=True, seed=0)
        quiet = lambda d, t: None
        generate_samples(project, SPEC, texts[:2], samples=1, settings=s, progress=quiet,
                         use_cache=False)  # load the model (not timed)
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        one = generate_samples(project, SPEC, texts, samples=1, settings=s, progress=quiet,
                               use_cache=False)
        t_one = time.perf_counter() - t0
        t0 = time.perf_counter()
        many = generate_samples(project, SPEC, texts, samples=k, settings=s, progress=quiet,
                                use_cache=False)
        t_many = time.perf_counter() - t0
    return [Row(f"probes: --samples {k} vs {k} x one", f"{k} samples in one call",
                f"{k} x one sample", t_many, k * t_one,
                f"SmolLM2, {len(texts)} gender chat prompts x 32 sampled tokens; one sample "
                f"{t_one:.1f} s; sample 1 identical to the one-sample run: {many[0] == one[0]}; "
                f"load {load0:.1f} -> {os.getloadavg()[0]:.1f}")]


ROWS = [sign_flip_vs_scipy, report_stats_vs_scipy, probe_vs_generation, samples_vs_one]
