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

from workbench._errors import WorkbenchError
from workbench.distributed import launch_command
from workbench.generate import GenerationCache, GenerationSettings, cache_for, generate
from workbench.models import model_fingerprint, prepare_model

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
    ({"num_processes": 0}, r"--num-processes: must be an integer >= 1; got 0"),
    ({"num_processes": 2, "config_file": "/nope.yaml"},
     r"--accelerate-config: no such file /nope.yaml"),
])
def test_launch_command_bad_input(kwargs, match):
    with pytest.raises(WorkbenchError, match=match):
        launch_command(["x.py"], **kwargs)
