"""Fine-tuning with Hugging Face Trainer: plan (all checks), train, save, record.

Everything a user can get wrong is checked in :func:`plan_training` before a single
step runs: the config, the model spec, the split and its columns, the tokenised data,
and (for ``resume``) the checkpoint files.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..core.errors import ConfigError, DataError, WorkbenchError
from ..models import trained_run_id
from ._config import TrainConfig
from ._data import SplitData, Tokenised, load_split_data, prompt_text, tokenise

# LoRA target modules per architecture (``config.model_type``); peft's own table is the
# fallback for anything not listed here.
LORA_TARGETS: dict[str, list[str]] = {
    "gpt2": ["c_attn"], "llama": ["q_proj", "v_proj"], "mistral": ["q_proj", "v_proj"],
    "qwen2": ["q_proj", "v_proj"], "gemma": ["q_proj", "v_proj"], "opt": ["q_proj", "v_proj"],
    "phi3": ["qkv_proj"], "gpt_neox": ["query_key_value"], "bert": ["query", "value"],
    "roberta": ["query", "value"], "distilbert": ["q_lin", "v_lin"], "t5": ["q", "v"],
}


@dataclass(frozen=True)
class TrainProgress:
    """One progress event: where training is and the latest losses."""

    step: int
    max_steps: int
    loss: float | None = None
    eval_loss: float | None = None


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced."""

    run_id: int
    checkpoint: str
    adapter: str | None
    merged: str | None
    model_card: str
    steps: int
    train_loss: float | None
    eval_loss_start: float | None
    eval_loss_end: float | None
    device: dict
    duration_s: float
    samples_per_s: float | None
    resumed_from: dict | None
    split: str
    dropped: dict
    notes: list[str] = field(default_factory=list)
    example: dict | None = None
    processes: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainPlan:
    """Everything checked and loaded, ready for :func:`run_training`."""

    config: TrainConfig
    data: SplitData
    tokenised: Tokenised
    model_path: Path
    model_fp: str
    tokenizer: object
    model: object
    device: dict
    resume: tuple | None = None  # (run, checkpoint path)


def device_choice() -> dict:
    """Training's device and precision, chosen by the one helper inference uses too
    (:func:`workbench.models.inference_device`: CUDA in bf16, fp16 where bf16 is
    unsupported, else the CPU in fp32), with what the run records about it."""
    import torch

    from ..models import inference_device

    choice = inference_device()
    out = {"device": choice.device, "precision": choice.precision}
    if choice.device == "cuda":
        return {**out, "name": torch.cuda.get_device_name(0),
                "reason": f"CUDA present: mixed precision {choice.precision}"}
    return {**out, "threads": torch.get_num_threads(),
            "reason": f"no CUDA device: CPU, {choice.precision}"}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _load_tokenizer(path: Path, spec: str):
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(str(path), trust_remote_code=False)
    except Exception as exc:  # noqa: BLE001 - corrupt or missing files: one clear line
        raise ConfigError(f"model '{spec}': could not load the tokenizer from {path}: "
                          f"{_first_line(exc)}") from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token or tok.unk_token
    return tok


def _load_model(config: TrainConfig, path: Path, tok, labels: list[str] | None):
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    spec = config.model
    try:
        if config.task == "seq2seq":
            model = _seq2seq_model(path, tok)
        elif config.task == "classification":
            model = AutoModelForSequenceClassification.from_pretrained(
                str(path), trust_remote_code=False, dtype=torch.float32,
                num_labels=len(labels), id2label=dict(enumerate(labels)),
                label2id={n: i for i, n in enumerate(labels)})
            if model.config.pad_token_id is None:
                model.config.pad_token_id = tok.pad_token_id
        else:
            model = AutoModelForCausalLM.from_pretrained(str(path), trust_remote_code=False,
                                                         dtype=torch.float32)
    except Exception as exc:  # noqa: BLE001 - corrupt weights, wrong architecture
        raise ConfigError(f"model '{spec}': could not load from {path}: "
                          f"{_first_line(exc)}") from None
    gen = getattr(model, "generation_config", None) if config.task != "classification" else None
    if gen is not None and getattr(gen, "pad_token_id", None) is None:
        gen.pad_token_id = tok.pad_token_id
    return model


def seq2seq_base(path: Path) -> bool:
    """True when the model at ``path`` is already an encoder-decoder (T5, BART, ...)."""
    from transformers import AutoConfig

    return bool(getattr(AutoConfig.from_pretrained(str(path), trust_remote_code=False),
                        "is_encoder_decoder", False))


def seq2seq_start(tok) -> int | None:
    """The decoder start token when an encoder is turned into an encoder-decoder."""
    return tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id


def _seq2seq_model(path: Path, tok):
    """``AutoModelForSeq2SeqLM`` for an encoder-decoder base; otherwise an
    ``EncoderDecoderModel`` with the base as encoder and as decoder (cross-attention added,
    decoder start = CLS/BOS, end = SEP/EOS)."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, EncoderDecoderModel

    if seq2seq_base(path):
        return AutoModelForSeq2SeqLM.from_pretrained(str(path), trust_remote_code=False,
                                                     dtype=torch.float32)
    start = seq2seq_start(tok)
    eos = tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id
    if start is None or eos is None:
        raise ValueError("its tokenizer has no CLS/BOS or SEP/EOS token to start and end "
                         "the decoder with")
    model = EncoderDecoderModel.from_encoder_decoder_pretrained(str(path), str(path))
    for cfg in (model.config, model.generation_config):
        cfg.decoder_start_token_id = start
        cfg.pad_token_id = tok.pad_token_id
        cfg.eos_token_id = eos
    model.config.decoder.eos_token_id = eos
    return model


def lora_targets(model, configured: list[str] | None) -> list[str]:
    """The configured target modules, or the default for the model's architecture."""
    if configured:
        return list(configured)
    mtype = getattr(model.config, "model_type", "")
    if mtype in LORA_TARGETS:
        return LORA_TARGETS[mtype]
    from peft.utils import (
        TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as peft_map,
    )

    if mtype in peft_map:
        return list(peft_map[mtype])
    import torch

    linear = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules()
                     if isinstance(m, torch.nn.Linear)})
    raise ConfigError(f"lora.target_modules: no default for architecture '{mtype}'; set it "
                      f"to some of the model's linear layers: {', '.join(linear[:12])}")


def _wrap_lora(config: TrainConfig, model):
    from peft import LoraConfig, get_peft_model

    lc = config.lora
    targets = lora_targets(model, lc.target_modules)
    task = "SEQ_CLS" if config.task == "classification" else "CAUSAL_LM"
    peft_cfg = LoraConfig(r=lc.r, lora_alpha=lc.alpha, lora_dropout=lc.dropout,
                          target_modules=targets, task_type=task,
                          fan_in_fan_out=getattr(model.config, "model_type", "") == "gpt2")
    try:
        return get_peft_model(model, peft_cfg)
    except ValueError as exc:
        names = sorted({n.rsplit(".", 1)[-1] for n, _ in model.named_modules() if n})
        raise ConfigError(f"lora.target_modules: {_first_line(exc)}; module names in this "
                          f"model include: {', '.join(names[:15])}") from None


# ------------------------------------------------------------------------------ resume
def _pid_alive(pid: int | None) -> bool:
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped) is not running
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _step_of(p: Path) -> int:
    try:
        return int(p.name.rsplit("-", 1)[-1])
    except ValueError:
        return -1


def trainer_dir(project, run_id: int) -> Path:
    return project.runs_dir / str(run_id) / "trainer"


def find_resumable(project, config: TrainConfig):
    """The newest unfinished run of this config with a checkpoint: ``(run, ckpt)`` or None."""
    from ..core.store import Store

    fp = config.fingerprint()
    for run in Store.for_project(project).list_runs("train"):
        if run.input_hashes.get("config") != fp or run.status == "succeeded":
            continue
        if run.status == "running" and _pid_alive(run.pid):
            raise ConfigError(f"run:{run.id} with this config is still running (pid "
                              f"{run.pid}); wait for it or cancel it before resuming")
        ckpts = sorted(trainer_dir(project, run.id).glob("checkpoint-*"), key=_step_of)
        # Trainer writes trainer_state.json last: a folder without it was cut off mid-save
        # by the kill, so the previous checkpoint is the newest one to trust.
        complete = [c for c in ckpts if (c / "trainer_state.json").exists()]
        if complete:
            return run, complete[-1]
    return None


def check_checkpoint(ckpt: Path) -> int:
    """Verify a Trainer checkpoint's files; return its step. Raise a one-line error."""
    import torch
    from safetensors.torch import load_file

    def bad(name: str, why: str) -> DataError:
        return DataError(f"checkpoint {ckpt}: {name} is corrupt ({why}); delete this "
                         "checkpoint folder to resume from an earlier one, or train from "
                         "the start without resuming")

    state = ckpt / "trainer_state.json"
    try:
        step = int(json.loads(state.read_text(encoding="utf-8"))["global_step"])
    except FileNotFoundError:
        raise bad("trainer_state.json", "missing") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise bad("trainer_state.json", _first_line(exc)) from None
    weights = [p for p in (ckpt / "model.safetensors", ckpt / "adapter_model.safetensors")
               if p.exists()]
    if not weights:
        raise bad("the weights", "no model.safetensors or adapter_model.safetensors")
    for p in weights:
        try:
            load_file(str(p))
        except Exception as exc:  # noqa: BLE001 - SafetensorError and friends
            raise bad(p.name, _first_line(exc)) from None
    for name in ("optimizer.pt", "scheduler.pt"):
        p = ckpt / name
        if not p.exists():
            raise bad(name, "missing")
        try:
            torch.load(str(p), map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - truncated pickle / zip
            raise bad(name, _first_line(exc)) from None
    return step


# -------------------------------------------------------------------------------- plan
def plan_training(project, config: TrainConfig, *, resume: bool = False,
                  source: str | None = None,
                  say: Callable[[str], None] | None = None) -> TrainPlan:
    """Check everything and load model and data; nothing is trained or recorded yet.

    Errors are one line, prefixed with ``source`` (the config file) when given.
    """
    try:
        return _plan(project, config, resume=resume, say=say or (lambda _m: None))
    except WorkbenchError as exc:
        if not source:
            raise
        raise type(exc)(f"{source}: {exc}") from None


def _plan(project, config: TrainConfig, *, resume: bool, say) -> TrainPlan:
    from ..models import model_fingerprint, prepare_model

    data = load_split_data(project, config)
    say(f"data: {data.ref} ({len(data.train)} train rows, "
        f"{0 if data.eval is None else len(data.eval)} eval rows)")
    try:
        model_path = prepare_model(project, config.model, progress=say)
    except WorkbenchError as exc:
        raise type(exc)(f"model: {exc}") from None
    tok = _load_tokenizer(model_path, config.model)
    start = None
    if config.task == "seq2seq":
        try:
            start = None if seq2seq_base(model_path) else seq2seq_start(tok)
        except Exception as exc:  # noqa: BLE001 - unreadable config.json
            raise ConfigError(f"model '{config.model}': could not read its config: "
                              f"{_first_line(exc)}") from None
    tokenised = tokenise(tok, config, data, decoder_start=start)
    resume_from = None
    if resume:
        found = find_resumable(project, config)
        if found:
            check_checkpoint(found[1])
            resume_from = found
    say(f"model: loading {config.model}")
    model = _load_model(config, model_path, tok, tokenised.labels)
    return TrainPlan(config=config, data=data, tokenised=tokenised, model_path=model_path,
                     model_fp=model_fingerprint(model_path), tokenizer=tok, model=model,
                     device=device_choice(), resume=resume_from)


# ------------------------------------------------------------------------------- train
def _store_callback(store, run_id: int, outputs: dict,
                    progress: Callable[[TrainProgress], None] | None):
    from transformers import TrainerCallback

    class StoreCallback(TrainerCallback):
        """Write every log into the store's metrics; report progress."""

        loss: float | None = None
        eval_loss: float | None = None
        max_steps: int = 0

        def on_train_begin(self, args, state, control, **kwargs):
            self.max_steps = state.max_steps
            if state.is_world_process_zero:
                import time

                # when the steps began (after the baseline evaluation): the app's ETA
                outputs.update(max_steps=state.max_steps, steps_started=time.time(),
                               start_step=state.global_step)
                store.update_run(run_id, outputs=dict(outputs))

        def on_log(self, args, state, control, logs=None, **kwargs):
            values = {k: float(v) for k, v in (logs or {}).items()
                      if isinstance(v, (int, float)) and not isinstance(v, bool)}
            self.loss = values.get("loss", self.loss)
            self.eval_loss = values.get("eval_loss", self.eval_loss)
            if values and state.is_world_process_zero:
                store.log_metrics(run_id, state.global_step, values)
            if progress:
                progress(TrainProgress(state.global_step, self.max_steps or state.max_steps,
                                       self.loss, self.eval_loss))

        def on_step_end(self, args, state, control, **kwargs):
            if progress:
                progress(TrainProgress(state.global_step, state.max_steps, self.loss,
                                       self.eval_loss))

    return StoreCallback()


def _dataset(rows: list[dict]):
    from datasets import Dataset

    return Dataset.from_list(rows)


def training_arguments(config: TrainConfig, out_dir: Path, device: dict, *, has_eval: bool,
                       **overrides):
    """Build ``TrainingArguments`` for this config on the chosen device."""
    from transformers import TrainingArguments

    t = config.training
    patience = bool(t.early_stopping_patience) and has_eval
    kw = dict(
        output_dir=str(out_dir), per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.batch_size, gradient_accumulation_steps=t.gradient_accumulation,
        learning_rate=t.learning_rate, num_train_epochs=t.epochs, max_steps=t.max_steps or -1,
        warmup_steps=t.warmup, weight_decay=t.weight_decay, lr_scheduler_type=t.lr_scheduler,
        max_grad_norm=t.max_grad_norm, logging_steps=t.logging_steps, logging_first_step=True,
        eval_strategy="steps" if has_eval else "no", eval_steps=t.eval_steps,
        save_strategy="steps", save_steps=t.save_steps, save_total_limit=t.save_total_limit,
        seed=t.seed, data_seed=t.seed, use_cpu=device["device"] == "cpu",
        bf16=device["precision"] == "bf16", fp16=device["precision"] == "fp16",
        report_to="none", disable_tqdm=True, dataloader_num_workers=0,
        load_best_model_at_end=patience, metric_for_best_model="eval_loss" if patience else None,
        greater_is_better=False if patience else None,
    )
    kw.update(overrides)
    return TrainingArguments(**kw)


def _collator(tok, task: str):
    from transformers import DataCollatorForSeq2Seq, DataCollatorWithPadding

    if task == "classification":
        return DataCollatorWithPadding(tok)
    return DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100)


def build_trainer(plan: TrainPlan, model, out_dir: Path, *, callbacks=(), **arg_overrides):
    """A Trainer over the plan's data (no callbacks that print to stdout)."""
    from transformers import EarlyStoppingCallback, PrinterCallback, Trainer

    cfg = plan.config
    has_eval = bool(plan.tokenised.eval)
    args = training_arguments(cfg, out_dir, plan.device, has_eval=has_eval, **arg_overrides)
    cbs = list(callbacks)
    if cfg.training.early_stopping_patience and has_eval:
        cbs.append(EarlyStoppingCallback(early_stopping_patience=cfg.training.early_stopping_patience))
    compute = _accuracy if cfg.task == "classification" else None
    trainer = Trainer(model=model, args=args, train_dataset=_dataset(plan.tokenised.train),
                      eval_dataset=_dataset(plan.tokenised.eval) if has_eval else None,
                      data_collator=_collator(plan.tokenizer, cfg.task),
                      processing_class=plan.tokenizer, callbacks=cbs, compute_metrics=compute)
    trainer.remove_callback(PrinterCallback)
    return trainer


def _accuracy(pred) -> dict:
    import numpy as np

    logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
    return {"accuracy": float((np.argmax(logits, axis=-1) == pred.label_ids).mean())}


def example_answer(model, tok, config: TrainConfig, text: str) -> str:
    """Greedy answer (causal-lm, seq2seq) or predicted label (classification)."""
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if config.task == "classification":
                enc = tok(text, return_tensors="pt", truncation=True,
                          max_length=config.training.max_length).to(model.device)
                idx = int(model(**enc).logits[0].argmax())
                return str(model.config.id2label.get(idx, idx))
            if config.task == "seq2seq":
                enc = tok(text, return_tensors="pt", truncation=True,
                          max_length=config.training.max_length).to(model.device)
                out = model.generate(**enc, max_new_tokens=config.card.max_new_tokens,
                                     do_sample=False)
                return tok.decode(out[0], skip_special_tokens=True).strip()
            enc = tok(prompt_text(tok, text), return_tensors="pt",
                      add_special_tokens=False).to(model.device)
            out = model.generate(**enc, max_new_tokens=config.card.max_new_tokens,
                                 do_sample=False, pad_token_id=tok.pad_token_id)
            return tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True).strip()
    finally:
        if was_training:
            model.train()


def _save_folder(model, tok, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tok.save_pretrained(str(out))
    for p in out.iterdir():  # safetensors only: nothing pickled leaves the run
        if p.suffix in (".bin", ".pt", ".pth", ".pkl"):
            p.unlink()


class _RankStore:
    """The store as a non-main process of a launch sees it: nothing is written."""

    @contextmanager
    def record(self, kind: str, **_kw):
        yield {"run_id": None}

    def add_lineage(self, *_a, **_kw) -> None:
        pass

    def update_run(self, *_a, **_kw) -> None:
        pass

    def log_metrics(self, *_a, **_kw) -> None:
        pass

    def metrics(self, _run_id) -> list[dict]:
        return []


def _from_main(value):
    """``value`` as the main process holds it: a broadcast inside a launch, else itself."""
    from ..models import partial_state, world

    if world()[1] <= 1:
        return value
    import torch.distributed as dist

    partial_state()  # the process group (gloo on CPU, NCCL on GPUs)
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _continue_from(project, store, plan: TrainPlan, run_id: int, tdir: Path) -> tuple[Path, dict]:
    old, ckpt = plan.resume
    step = _step_of(ckpt)
    old_dir = trainer_dir(project, old.id)
    tdir.parent.mkdir(parents=True, exist_ok=True)
    os.replace(old_dir, tdir)
    for m in store.metrics(old.id):
        if m["step"] <= step:
            store.log_metrics(run_id, m["step"], {m["key"]: m["value"]})
    store.add_lineage(("run", old.id), ("run", run_id), "resumed")
    if old.status == "running":
        store.finish_run(old.id, status="failed", error=f"interrupted; resumed as run:{run_id}")
    return tdir / ckpt.name, {"run": old.id, "step": step, "checkpoint": ckpt.name}


def run_training(project, plan: TrainPlan, *, config_path: str | None = None,
                 progress: Callable[[TrainProgress], None] | None = None,
                 say: Callable[[str], None] | None = None) -> TrainResult:
    """Train per ``plan``, write checkpoint + model card, record everything in the store.

    Inside a multi-process launch (``WORLD_SIZE`` > 1) every process calls this with the
    same plan and trains its share (DDP); only the main process (rank 0) writes Trainer
    checkpoints, the model folder, the model card and the store's run, metrics and
    lineage. Every process returns the main process's result.
    """
    from ..core.store import Store
    from ..models import is_main_process
    from ._card import write_model_card

    say = say or (lambda _m: None)
    cfg = plan.config
    main = is_main_process()
    store = Store.for_project(project) if main else _RankStore()
    name = cfg.name or (Path(config_path).stem if config_path else f"{cfg.method} {cfg.model}")
    run_config = {**cfg.model_dump(mode="json"), "config_path": config_path}
    hashes = {"config": cfg.fingerprint(), "model": plan.model_fp, "split": plan.data.ref,
              "data": plan.data.dataset}
    with store.record("train", name=name, config=run_config, input_hashes=hashes) as outputs:
        run_id = outputs["run_id"]
        run_dir = project.runs_dir / str(run_id)
        tdir = trainer_dir(project, run_id)
        outputs.update(device=plan.device, split=plan.data.ref, dropped=plan.tokenised.dropped,
                       notes=list(plan.data.notes), run_dir=str(run_dir))
        store.add_lineage(("run", plan.data.run.id), ("run", run_id), "train")
        if trained_run_id(cfg.model) is not None:
            store.add_lineage(("run", trained_run_id(cfg.model)), ("run", run_id), "fine-tune")
        resume_ckpt, resumed = None, None
        if plan.resume and main:
            resume_ckpt, resumed = _continue_from(project, store, plan, run_id, tdir)
            outputs["resumed_from"] = resumed
            say(f"resuming run:{resumed['run']} from step {resumed['step']}")
        # other processes of a launch train into the main process's run folder
        run_id, resume_ckpt, resumed = _from_main((run_id, resume_ckpt, resumed))
        tdir = trainer_dir(project, run_id)
        store.update_run(run_id, outputs=dict(outputs))

        tok, model = plan.tokenizer, plan.model
        prompts = plan.tokenised.eval_prompts
        example = cfg.card.example_prompt or (prompts[0] if prompts else None)
        before = example_answer(model, tok, cfg, example) if example and main else None
        if cfg.method == "lora":
            model = _wrap_lora(cfg, model)
        trainer = build_trainer(plan, model, tdir,
                                callbacks=[_store_callback(store, run_id, outputs, progress)])
        eval_start = None
        if trainer.eval_dataset is not None and cfg.training.eval_at_start and not resume_ckpt:
            eval_start = trainer.evaluate()["eval_loss"]
        processes = trainer.args.world_size
        outputs["processes"] = processes
        say(f"training on {plan.device['device']} ({plan.device['precision']})"
            + (f", {processes} processes" if processes > 1 else ""))
        result = trainer.train(resume_from_checkpoint=str(resume_ckpt) if resume_ckpt else None)
        step = trainer.state.global_step
        evals = [m for m in store.metrics(run_id) if m["key"] == "eval_loss"]
        if _from_main(trainer.eval_dataset is not None
                      and (not evals or evals[-1]["step"] != step)):
            trainer.evaluate()  # every process of a launch takes part
            evals = [m for m in store.metrics(run_id) if m["key"] == "eval_loss"]
        if not main:
            return _from_main(None)
        if eval_start is None and evals and evals[0]["step"] == 0:
            eval_start = evals[0]["value"]
        after = example_answer(trainer.model, tok, cfg, example) if example else None

        say("saving the model")
        model_dir = run_dir / "model"
        trained = trainer.model
        _save_folder(trained, tok, model_dir)
        adapter = str(model_dir) if cfg.method == "lora" else None
        merged = None
        if cfg.method == "lora" and cfg.lora.merge:
            merged_dir = run_dir / "merged"
            _save_folder(trained.merge_and_unload(), tok, merged_dir)
            merged = str(merged_dir)
        checkpoint = merged or str(model_dir)
        losses = [m for m in store.metrics(run_id) if m["key"] == "loss"]
        res = TrainResult(
            run_id=run_id, checkpoint=checkpoint, adapter=adapter, merged=merged,
            model_card="", steps=step,
            train_loss=losses[-1]["value"] if losses else result.training_loss,
            eval_loss_start=eval_start, eval_loss_end=evals[-1]["value"] if evals else None,
            device=plan.device, duration_s=0.0,
            samples_per_s=result.metrics.get("train_samples_per_second"),
            resumed_from=resumed, split=plan.data.ref, dropped=plan.tokenised.dropped,
            notes=list(plan.data.notes),
            example={"prompt": example, "before": before, "after": after} if example else None,
            processes=processes)
        card_dirs = [model_dir] + ([Path(merged)] if merged else [])
        card = write_model_card(project, plan, res, store.metrics(run_id), card_dirs)
        (model_dir / "training_config.json").write_text(
            json.dumps({**run_config, "device": plan.device}, indent=2), encoding="utf-8")
        if not cfg.training.keep_checkpoints:
            shutil.rmtree(tdir, ignore_errors=True)
        res = _replace(res, model_card=str(card))
        outputs.update({k: v for k, v in res.to_dict().items() if k not in ("run_id",)})
    run = store.get_run(run_id)
    return _from_main(_replace(res, duration_s=run.duration_s or 0.0))


def _replace(res: TrainResult, **kw) -> TrainResult:
    from dataclasses import replace

    return replace(res, **kw)


def train(project, config: TrainConfig, *, config_path: str | None = None,
          resume: bool = False, progress: Callable[[TrainProgress], None] | None = None,
          say: Callable[[str], None] | None = None) -> TrainResult:
    """Fine-tune per ``config``; with ``resume`` continue an interrupted run of it.

    Every check runs before training starts (see :func:`plan_training`).
    """
    plan = plan_training(project, config, resume=resume, source=config_path, say=say)
    if resume and plan.resume is None and say:
        say("nothing to resume for this config: starting a fresh run")
    return run_training(project, plan, config_path=config_path, progress=progress, say=say)
