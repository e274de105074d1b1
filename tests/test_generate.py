"""The generation engine on the tiny GPT-2: batched == one at a time, cache, sampling."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from workbench.core.errors import WorkbenchError
from workbench.generation import (
    GenerationSettings,
    cache_for,
    encode_prompts,
    generate,
    generate_ids,
)

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = ["How do I reset my station?", "Will it rain", "Where is my order? It has been "
           "two weeks and the tracking page still says it has not shipped.", "Hi",
           "Why is my screen blank after the update?", "Can I change my email?",
           "Will it rain", "The battery"]


@pytest.fixture(scope="module")
def lm(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(tiny_model)).eval()
    return model, AutoTokenizer.from_pretrained(str(tiny_model))


def _one_at_a_time(model, tok, ids, max_new_tokens):
    import torch

    out = []
    for x in ids:
        t = torch.tensor([x])
        with torch.inference_mode():
            g = model.generate(input_ids=t, attention_mask=torch.ones_like(t),
                               max_new_tokens=max_new_tokens, do_sample=False,
                               pad_token_id=tok.pad_token_id)
        out.append(g[0, len(x):].tolist())
    return out


@pytest.mark.parametrize("batch_size", [3, 8])
def test_greedy_batched_equals_one_at_a_time_token_for_token(lm, batch_size):
    model, tok = lm
    ids = encode_prompts(tok, PROMPTS)
    assert len({len(x) for x in ids}) > 3  # real padding happens
    batched = generate_ids(model, tok, ids,
                           settings=GenerationSettings(max_new_tokens=12, batch_size=batch_size))
    assert batched == _one_at_a_time(model, tok, ids, 12)


def test_generate_dedupes_orders_and_caches(shared_project, tiny_model, lm):
    model, tok = lm
    seen = []
    s = GenerationSettings(max_new_tokens=6, batch_size=4)
    out = generate(shared_project, "tiny:gpt2", PROMPTS, settings=s,
                   progress=lambda d, t: seen.append((d, t)))
    single = _one_at_a_time(model, tok, encode_prompts(tok, PROMPTS), 6)
    assert out == [tok.decode(x, skip_special_tokens=True) for x in single]
    assert out[1] == out[6]  # duplicates share one generation
    assert seen[-1] == (len(PROMPTS), len(PROMPTS))
    keys = [cache_for(shared_project).key("x", s, p) for p in PROMPTS]
    assert len(set(keys)) == len(set(PROMPTS))
    # batch size is not part of the cache key; greedy ignores seed
    again = generate(shared_project, "tiny:gpt2", PROMPTS[::-1], progress=lambda d, t: None,
                     settings=GenerationSettings(max_new_tokens=6, batch_size=1, seed=9))
    assert again == out[::-1]


def test_cached_rerun_does_not_load_the_model(shared_project, tiny_model):
    s = GenerationSettings(max_new_tokens=5)
    first = generate(shared_project, "tiny:gpt2", PROMPTS, settings=s, progress=lambda d, t: None)
    code = ("import json, sys\nfrom workbench.core.project import Project\n"
            "from workbench.generation import generate, GenerationSettings\n"
            f"out = generate(Project(__import__('pathlib').Path({str(shared_project.root)!r})), "
            f"'tiny:gpt2', {PROMPTS!r}, settings=GenerationSettings(max_new_tokens=5), "
            "progress=lambda d, t: None)\n"
            "print(json.dumps({'out': out, 'heavy': [m for m in ('torch', 'transformers') "
            "if m in sys.modules]}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res == {"out": first, "heavy": []}


def test_sampling_is_seeded_and_independent_of_batching(shared_project, tiny_model):
    def run(seed, bs, prompts=PROMPTS):
        return generate(shared_project, "tiny:gpt2", prompts, use_cache=False,
                        progress=lambda d, t: None,
                        settings=GenerationSettings(max_new_tokens=8, do_sample=True,
                                                    seed=seed, batch_size=bs))

    a = run(1, 8)
    assert run(1, 3) == a
    assert run(1, 2, PROMPTS[:2]) == a[:2]
    assert run(2, 8) != a
    greedy = generate(shared_project, "tiny:gpt2", PROMPTS, use_cache=False,
                      progress=lambda d, t: None, settings=GenerationSettings(max_new_tokens=8))
    assert greedy != a


def test_chat_template_wraps_prompts(lm):
    _model, tok = lm
    [ids] = encode_prompts(tok, ["Hi"], chat=True)
    assert tok.decode(ids) == "user: Hi\nassistant: "


def test_out_of_memory_halves_the_batch(lm):
    """A model whose forward fails on batches above 2 rows still finishes."""
    model, tok = lm
    ids = encode_prompts(tok, PROMPTS)
    sizes = []

    def guard(module, args, kwargs):
        n = kwargs["input_ids"].shape[0] if "input_ids" in kwargs else args[0].shape[0]
        sizes.append(n)
        if n > 2:
            raise RuntimeError("CPU out of memory (simulated)")

    handle = model.register_forward_pre_hook(guard, with_kwargs=True)
    try:
        out = generate_ids(model, tok, ids, settings=GenerationSettings(max_new_tokens=4,
                                                                        batch_size=8))
    finally:
        handle.remove()
    assert max(sizes) == 7 and 2 in sizes  # 8 prompts, 7 distinct: each prefilled once
    assert out == _one_at_a_time(model, tok, ids, 4)


@pytest.mark.parametrize("kwargs, match", [
    ({"max_new_tokens": 0}, "max_new_tokens: must be an integer >= 1; got 0"),
    ({"batch_size": 0}, "batch_size: must be an integer >= 1; got 0"),
    ({"temperature": 0.0}, "temperature: must be > 0; got 0.0"),
    ({"top_p": 1.5}, r"top_p: must be in \(0, 1\]; got 1.5"),
])
def test_bad_settings(kwargs, match):
    with pytest.raises(WorkbenchError, match=match):
        GenerationSettings(**kwargs)


def _open_and_write(folder: str, start: float, i: int) -> str:
    import time as _t

    from workbench.generation import GenerationCache

    _t.sleep(max(0.0, start - _t.time()))  # all processes open the new file together
    for j in range(40):  # and keep opening it while the others write
        cache = GenerationCache(Path(folder))
        cache.put_many("m", {f"k{i}-{j}": f"text {i}"})
    return cache.get_many([f"k{i}-39"])[f"k{i}-39"]


def test_cache_opened_by_many_processes_at_once(tmp_path):
    """A new cache file opened by 8 processes in the same instant: none fails with
    'database is locked' (switching to WAL needs a lock SQLite may refuse at once)."""
    import multiprocessing as mp
    import time as _t

    for round_ in range(2):
        folder = tmp_path / f"cache{round_}"
        start = _t.time() + 1.5
        with mp.get_context("spawn").Pool(8) as pool:
            got = pool.starmap(_open_and_write, [(str(folder), start, i) for i in range(8)])
        assert got == [f"text {i}" for i in range(8)]
        with closing(sqlite3.connect(folder / "generations.db")) as con:
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
