"""Generation on the packaged SmolLM2: batched vs one prompt at a time; cache re-run."""

from __future__ import annotations

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


def generation_batched_vs_single():
    import torch

    from workbench.generation import GenerationSettings, encode_prompts, generate_ids
    from workbench.generation._generate import _load
    from workbench.models import model_fingerprint, prepare_model

    project = _project()
    fp = model_fingerprint(prepare_model(project, SPEC))
    model, tok = _load(project, SPEC, fp)
    ids = encode_prompts(tok, _prompts(), chat=True)
    s = GenerationSettings(max_new_tokens=NEW_TOKENS, batch_size=16)
    t0 = time.perf_counter()
    batched = generate_ids(model, tok, ids, settings=s)
    t_batched = time.perf_counter() - t0
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
    same = [tok.decode(a, skip_special_tokens=True) for a in batched] == \
        [tok.decode(b, skip_special_tokens=True) for b in single]
    n_tok = sum(len(a) for a in batched)
    return [Row("generate: batched vs 1-at-a-time", "batch 16, left-padded",
                "model.generate per prompt", t_batched, t_single,
                f"{len(ids)} prompts x {NEW_TOKENS} tokens greedy; {n_tok / t_batched:.0f} vs "
                f"{n_tok / t_single:.0f} tok/s; {t_single / t_batched:.1f}x faster; "
                f"identical text: {same}")]


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
