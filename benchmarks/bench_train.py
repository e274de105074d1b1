"""Training throughput: LoRA over full fine-tuning, and Trainer over a bare PyTorch loop.

Both ratios are measured in one run, on the same data (the demo support QA split, the
same tokenisation and collator), for the tiny GPT-2 (fast) and for the packaged
SmolLM2-135M-Instruct (slower: a few steps only, and the first run converts the model).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from run import ROOT, Row

TINY_STEPS, SMOL_STEPS = 30, 4


def _project(*, copy_model: bool = True):
    from workbench.core.project import init_project
    from workbench.data import import_dataset
    from workbench.splits import make_split

    root = Path(tempfile.mkdtemp(prefix="bench-train-")) / "proj"
    p = init_project(root)
    os.environ.setdefault("HF_HOME", str(p.hf_home))
    cached = ROOT / ".workbench" / "models" / "packaged_smollm2-135m-instruct"
    if copy_model and cached.is_dir():  # reuse the repository's converted SmolLM2 instead of 40 s again
        shutil.copytree(cached, p.models_dir / cached.name)
    dv, _ = import_dataset(p, str(ROOT / "workbench" / "demo" / "support_qa.csv"),
                           name="support")
    make_split(p, dv, label="persona", seed=0)
    return p


def _plan(project, model: str, method: str, *, batch: int, max_length: int):
    from workbench.train import parse_config, plan_training

    cfg = parse_config({"model": model, "method": method, "data": {
        "split": "support", "prompt": "question", "response": "answer", "eval_part": "none"},
        "training": {"batch_size": batch, "max_length": max_length, "learning_rate": 1e-4,
                     "seed": 0}})
    return plan_training(project, cfg)


def _trainer_time(plan, steps: int) -> float:
    from workbench.train._run import _wrap_lora, build_trainer

    model = _wrap_lora(plan.config, plan.model) if plan.config.method == "lora" else plan.model
    out = Path(tempfile.mkdtemp(prefix="bench-trainer-"))
    trainer = build_trainer(plan, model, out, max_steps=steps, save_strategy="no",
                            eval_strategy="no", logging_steps=steps)
    t0 = time.perf_counter()
    trainer.train()
    took = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)
    return took


def _bare_loop_time(plan, steps: int) -> float:
    """The same steps by hand: DataLoader, AdamW, linear schedule, clipping."""
    import torch
    from torch.utils.data import DataLoader
    from transformers import get_linear_schedule_with_warmup

    from workbench.train._run import _collator, _load_model, _wrap_lora

    model = _load_model(plan.config, plan.model_path, plan.tokenizer, plan.tokenised.labels)
    if plan.config.method == "lora":
        model = _wrap_lora(plan.config, model)
    t = plan.config.training
    t0 = time.perf_counter()
    torch.manual_seed(t.seed)
    loader = DataLoader(plan.tokenised.train, batch_size=t.batch_size, shuffle=True,
                        collate_fn=_collator(plan.tokenizer, plan.config.task))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=t.learning_rate, weight_decay=t.weight_decay)
    sched = get_linear_schedule_with_warmup(opt, 0, steps)
    model.train()
    done = 0
    while done < steps:
        for batch in loader:
            loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, t.max_grad_norm)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            done += 1
            if done == steps:
                break
    return time.perf_counter() - t0


def _rows(model: str, label: str, steps: int, batch: int, max_length: int, note: str):
    project = _project()
    full = _plan(project, model, "full", batch=batch, max_length=max_length)
    lora = _plan(project, model, "lora", batch=batch, max_length=max_length)
    full_trainer = _trainer_time(full, steps)
    lora_trainer = _trainer_time(lora, steps)
    full_bare = _bare_loop_time(_plan(project, model, "full", batch=batch,
                                      max_length=max_length), steps)
    what = f"{steps} steps x batch {batch}, max length {max_length}"
    return [
        Row(f"train: LoRA/full samples/s ({label})", "full fine-tune", "LoRA", full_trainer,
            lora_trainer, f"{what}; ratio = LoRA samples/s over full; {note}"),
        Row(f"train: Trainer/bare loop ({label})", "HF Trainer", "bare PyTorch loop",
            full_trainer, full_bare, f"full fine-tune, {what}; ratio = Trainer overhead; "
            f"{note}"),
    ]


def train_tiny():
    return _rows("tiny:gpt2", "tiny gpt2", TINY_STEPS, 8, 96, "fast")


def train_smollm2():
    return _rows("packaged:smollm2-135m-instruct", "SmolLM2-135M", SMOL_STEPS, 4, 112,
                 "slow: ~135M parameters on CPU")


ROWS = [train_tiny, train_smollm2]
