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

from workbench.core.errors import ConfigError
from workbench.generation import (
    GenerationCache,
    GenerationSettings,
    cache_for,
    encode_prompts,
    generate,
    generate_ids,
    generate_samples,
)

ROOT = Path(__file__).resolve().parents[2]
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


@pytest.mark.parametrize("batch_size, chat", [(3, False), (8, False), (8, True)])
def test_greedy_batched_equals_one_at_a_time_token_for_token(lm, batch_size, chat):
    """The decode loop (shared chat prefix computed once, suffixes padded after it)
    gives plain ``model.generate``'s greedy tokens, prompt by prompt."""
    from workbench.generation._generate import _fast_path

    model, tok = lm
    assert _fast_path(model, GenerationSettings()) == "cache"  # our loop, not generate
    ids = encode_prompts(tok, PROMPTS, chat=chat)
    assert len({len(x) for x in ids}) > 3  # real padding happens
    if chat:
        assert len(os.path.commonprefix(ids)) >= 2  # a prefix shared by every prompt
    batched = generate_ids(model, tok, ids,
                           settings=GenerationSettings(max_new_tokens=12, batch_size=batch_size))
    assert batched == _one_at_a_time(model, tok, ids, 12)


def test_finished_rows_leave_the_batch_with_the_same_tokens(lm):
    """A row that emits an end token is cut there and dropped; the others go on unchanged."""
    from workbench.generation._generate import _decode_batch

    model, tok = lm
    ids = encode_prompts(tok, PROMPTS[:6])
    full = _one_at_a_time(model, tok, ids, 10)
    stop = full[0][2]  # a token one row emits early: it ends that row (and maybe others)
    widths = []
    model_hook = model.register_forward_pre_hook(
        lambda m, a, kw: widths.append(kw["input_ids"].shape[0]), with_kwargs=True)
    try:
        got = _decode_batch(model, ids, cache_arg="cache", pad=tok.pad_token_id, stops={stop},
                            max_new_tokens=10, pick=lambda logits, alive: logits.argmax(-1))
    finally:
        model_hook.remove()
    want = [x[:x.index(stop) + 1] if stop in x else x for x in full]
    assert got == want and len(got[0]) <= 3 and max(map(len, got)) == 10
    assert max(widths) == 6 and widths[-1] < 6  # later steps ran on fewer rows


@pytest.mark.parametrize("cuda, bf16, label", [(False, False, "cpu-fp32"),
                                                (False, True, "cpu-fp32"),
                                                (True, True, "cuda-bf16"),
                                                (True, False, "cuda-fp16")])
def test_device_choice_from_what_is_available(cuda, bf16, label):
    import torch

    from workbench.models import choose_device, inference_device

    choice = choose_device(cuda=cuda, bf16=bf16)
    assert choice.label == label
    assert choice.torch_dtype == {"fp32": torch.float32, "bf16": torch.bfloat16,
                                  "fp16": torch.float16}[label.split("-")[1]]
    assert inference_device().label == "cpu-fp32"  # this machine: no GPU


def test_device_is_part_of_the_cache_key():
    s = GenerationSettings()
    assert GenerationCache.key("m", s, "p") == GenerationCache.key("m", s, "p",
                                                                   device="cpu-fp32")
    assert GenerationCache.key("m", s, "p", device="cuda-bf16") != GenerationCache.key(
        "m", s, "p")


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
    # K samples in one call: sample k is the call with seed 1+k, each prompt prefilled once
    seen = []
    k3 = generate_samples(shared_project, "tiny:gpt2", PROMPTS, samples=3, use_cache=False,
                          progress=lambda d, t: seen.append((d, t)),
                          settings=GenerationSettings(max_new_tokens=8, do_sample=True, seed=1))
    assert k3 == [a, run(2, 8), run(3, 8)] and seen[-1] == (24, 24)


def test_sampling_decode_loop_equals_model_generate(lm, monkeypatch):
    """Sampling through our loop draws the tokens ``model.generate`` draws with the same
    per-prompt generators."""
    from workbench.generation import _generate as g

    model, tok = lm
    ids = encode_prompts(tok, PROMPTS)
    s = GenerationSettings(max_new_tokens=8, do_sample=True, seed=5, top_p=0.9)
    ours = generate_ids(model, tok, ids, settings=s, prompts=PROMPTS)
    monkeypatch.setattr(g, "_fast_path", lambda model, settings: None)
    assert generate_ids(model, tok, ids, settings=s, prompts=PROMPTS) == ours


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
    ({"max_new_tokens": 0}, "max new tokens: must be an integer >= 1; got 0"),
    ({"batch_size": 0}, "batch size: must be an integer >= 1; got 0"),
    ({"temperature": 0.0}, "temperature: must be > 0; got 0.0"),
    ({"top_p": 1.5}, r"top p: must be in \(0, 1\]; got 1.5"),
])
def test_bad_settings(kwargs, match):
    with pytest.raises(ConfigError, match=match) as err:
        GenerationSettings(**kwargs)
    assert err.value.param == next(iter(kwargs))  # the CLI names the flag, the app the label


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
