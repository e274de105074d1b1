"""Generation on the packaged SmolLM2: the library's ``generate`` vs one prompt at a time
with plain ``model.generate``, against the compute bound; cache re-run."""

from __future__ import annotations

import os
import time

from run import ROOT, Row

N_PROMPTS, NEW_TOKENS, SPEC = 64, 32, "packaged:smollm2-135m-instruct"


def _prompts() -> list[str]:
    import csv

    with (ROOT / "workbench" / "demo" / "support_qa.csv").open(encoding="utf-8") as fh:
        qs = [r["question"] for r in csv.DictReader(fh) if r["question"]]
    return list(dict.fromkeys(qs))[:N_PROMPTS]


def _project():
    from workbench.core.project import find_project

    return find_project(ROOT)


def matmul_rate(n: int = 1024, repeat: int = 10) -> float:
    """This machine's fp32 matmul rate right now (FLOP/s, best of ``repeat``)."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best


def _load_avg() -> str:
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def generation_batched_vs_single():
    import torch

    from workbench.generation import GenerationSettings, encode_prompts, generate
    from workbench.generation._generate import _load
    from workbench.models import model_fingerprint, prepare_model

    project = _project()
    fp = model_fingerprint(prepare_model(project, SPEC))
    model, tok = _load(project, SPEC, fp)
    prompts = _prompts()
    ids = encode_prompts(tok, prompts, chat=True)
    n_params = sum(p.numel() for p in model.parameters())
    quiet = lambda d, t: None
    load_before = _load_avg()
    rate = matmul_rate()
    timed = {}
    for bs in (64, 16):
        s = GenerationSettings(max_new_tokens=NEW_TOKENS, batch_size=bs, chat=True)
        t0 = time.perf_counter()
        timed[bs] = (generate(project, SPEC, prompts, settings=s, progress=quiet,
                              use_cache=False), time.perf_counter() - t0)
    batched, t_batched = timed[64]
    t0 = time.perf_counter()
    single = []
    for x in ids:
        inp = torch.tensor([x])
        with torch.inference_mode():
            out = model.generate(input_ids=inp, attention_mask=torch.ones_like(inp),
                                 max_new_tokens=NEW_TOKENS, do_sample=False,
                                 pad_token_id=tok.pad_token_id or tok.eos_token_id)
        single.append(out[0, len(x):].tolist())
    t_single = time.perf_counter() - t0
    single_text = [tok.decode(b, skip_special_tokens=True) for b in single]
    same = batched == single_text and timed[16][0] == single_text
    n_new = sum(len(b) for b in single)
    bound = 2 * n_params * (sum(map(len, ids)) + n_new) / rate
    return [Row("generate: batched vs 1-at-a-time", "generate(), batch 64, chat",
                "model.generate per prompt", t_batched, t_single,
                f"{len(ids)} prompts x {NEW_TOKENS} tokens greedy; {n_new / t_batched:.0f} vs "
                f"{n_new / t_single:.0f} tok/s; {t_single / t_batched:.1f}x faster; batch 16: "
                f"{timed[16][1]:.1f} s ({t_single / timed[16][1]:.1f}x); identical text: {same}; "
                f"matmul {rate / 1e9:.0f} GFLOP/s, compute bound 2 x {n_params / 1e6:.1f}M "
                f"params x {sum(map(len, ids)) + n_new} tokens = {bound:.1f} s = "
                f"{bound / t_batched:.0%} of it reached; {load_before}, after {_load_avg()}"
                )]


def generation_cache_rerun():
    from workbench.generation import _generate as g

    project = _project()
    prompts = [f"{p} (run {time.time():.0f})" for p in _prompts()]  # never cached before
    s = g.GenerationSettings(max_new_tokens=NEW_TOKENS, batch_size=16, chat=True)
    g._LOADED.clear()
    t0 = time.perf_counter()
    first = g.generate(project, SPEC, prompts, settings=s, progress=lambda d, t: None)
    t_first = time.perf_counter() - t0
    g._LOADED.clear()
    t0 = time.perf_counter()
    again = g.generate(project, SPEC, prompts, settings=s, progress=lambda d, t: None)
    t_again = time.perf_counter() - t0
    return [Row("generate: cached re-run vs first", "re-run (cache)", "first run (load+gen)",
                t_again, t_first, f"{len(prompts)} prompts; same text: {first == again}")]


ROWS = [generation_batched_vs_single, generation_cache_rerun]
