"""Training configs: YAML read with ``yaml.safe_load`` into frozen pydantic models.

Every error names the config file and the key path, scikit-learn style::

    configs/demo.yaml: training.lr: unknown key (did you mean 'learning_rate'?)
    configs/demo.yaml: training.learning_rate: must be greater than 0; got -0.001
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..core.config import ConfigSource, read_yaml, validate
from ..core.digest import sha256_json
from ..core.errors import ConfigError, NotFoundError, did_you_mean

Task = Literal["causal-lm", "classification", "seq2seq"]
Method = Literal["full", "lora"]
Part = Literal["train", "validation", "test"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(_Strict):
    """Where the examples come from: a stored split and its columns."""

    split: str = Field(description="split:ID, ID, or a dataset NAME[@VERSION] (its newest split)")
    prompt: str | None = Field(None, description="causal-lm / seq2seq: the input column")
    response: str | None = Field(None, description="causal-lm / seq2seq: the target column")
    messages: str | None = Field(None, description="causal-lm: a column of conversations "
                                 "(loss on every assistant turn), instead of prompt/response")
    text: str | None = Field(None, description="classification: the text column")
    label: str | None = Field(None, description="classification: the label column")
    train_part: Part = "train"
    eval_part: Literal["auto", "validation", "test", "none"] = Field(
        "auto", description="auto: validation when the split has one, else test")
    max_train_rows: int | None = Field(None, ge=1)
    max_eval_rows: int | None = Field(64, ge=1)

    @field_validator("split", mode="before")
    @classmethod
    def _split_id(cls, value: object) -> object:
        """``split: 3`` in YAML is a number: the split with id 3, as the description says."""
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class LoraConfig(_Strict):
    """LoRA settings (used when ``method: lora``)."""

    r: int = Field(8, ge=1)
    alpha: float = Field(16.0, gt=0)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: list[str] | None = Field(
        None, description="default: per architecture (GPT-2 c_attn, Llama q_proj/v_proj, ...)")
    merge: bool = Field(False, description="also export the adapter merged into the base model")


class TrainingSettings(_Strict):
    """Hyperparameters handed to Hugging Face ``TrainingArguments``."""

    learning_rate: float = Field(5e-5, gt=0)
    batch_size: int = Field(8, ge=1)
    gradient_accumulation: int = Field(1, ge=1)
    epochs: float = Field(1.0, gt=0)
    max_steps: int | None = Field(None, ge=1, description="overrides epochs when set")
    warmup: float = Field(0.0, ge=0, description="steps (>= 1) or a fraction of all steps (< 1)")
    weight_decay: float = Field(0.0, ge=0)
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "linear"
    max_grad_norm: float = Field(1.0, gt=0)
    max_length: int = Field(256, ge=8)
    seed: int = 0
    logging_steps: int = Field(5, ge=1)
    eval_steps: int = Field(20, ge=1)
    save_steps: int = Field(20, ge=1)
    save_total_limit: int = Field(2, ge=1)
    early_stopping_patience: int | None = Field(None, ge=1)
    eval_at_start: bool = Field(True, description="measure the eval loss before training")
    keep_checkpoints: bool = Field(False, description="keep the Trainer checkpoints after success")


class CardConfig(_Strict):
    """What the model card shows."""

    example_prompt: str | None = Field(
        None, description="default: the first evaluation example's prompt")
    max_new_tokens: int = Field(48, ge=1, le=512)


class LRSearchConfig(_Strict):
    """The learning-rate range test behind ``--lr-search``."""

    min_lr: float = Field(1e-6, gt=0)
    max_lr: float = Field(1e-1, gt=0)
    steps: int = Field(40, ge=5, le=1000)
    smoothing: float = Field(0.6, ge=0, lt=1)
    divergence: float = Field(4.0, gt=1, description="stop when loss > this x the best loss")

    @model_validator(mode="after")
    def _range(self):
        if self.max_lr <= self.min_lr:
            raise ValueError("max_lr must be greater than min_lr")
        return self


class TrainConfig(_Strict):
    """A fine-tuning run: model, task, data, method and hyperparameters."""

    name: str | None = None
    model: str
    task: Task = "causal-lm"
    method: Method = "full"
    data: DataConfig
    lora: LoraConfig = LoraConfig()
    training: TrainingSettings = TrainingSettings()
    card: CardConfig = CardConfig()
    lr_search: LRSearchConfig = LRSearchConfig()

    @model_validator(mode="after")
    def _columns_for_task(self):
        if self.data.messages is not None:
            if self.task != "causal-lm":
                raise _KeyError("data.messages", f"conversations train task 'causal-lm'; "
                                f"got task '{self.task}'")
            both = [k for k in ("prompt", "response", "text", "label") if getattr(self.data, k)]
            if both:
                raise _KeyError(f"data.{both[0]}", "give either data.messages (a column of "
                                f"conversations) or data.{both[0]}, not both")
        need = ("text", "label") if self.task == "classification" else \
            (() if self.data.messages is not None else ("prompt", "response"))
        for key in need:
            if not getattr(self.data, key):
                raise _KeyError(f"data.{key}", f"required for task '{self.task}' (the "
                                f"{'input' if key in ('prompt', 'text') else 'target'} column)")
        if self.task == "seq2seq" and self.method == "lora":
            raise _KeyError("method", "'lora' is not supported for task 'seq2seq'; use "
                            "method: full")
        t = self.training
        if t.early_stopping_patience and self.data.eval_part == "none":
            raise _KeyError("training.early_stopping_patience",
                            "needs evaluation; set data.eval_part to auto, validation or test")
        if t.early_stopping_patience and t.save_steps % t.eval_steps:
            raise _KeyError("training.save_steps", f"must be a multiple of training.eval_steps "
                            f"({t.eval_steps}) when early_stopping_patience is set; "
                            f"got {t.save_steps}")
        return self

    def fingerprint(self) -> str:
        """A stable hash of everything that shapes the trained weights (not the name)."""
        body = self.model_dump(mode="json", exclude={"name", "card", "lr_search"})
        if body["data"].get("messages") is None:  # fingerprints from before messages stay
            body["data"].pop("messages", None)
        return sha256_json(body, length=16)


class _KeyError(ValueError):
    """Raised from validators to point at a specific key path."""

    def __init__(self, loc: str, msg: str):
        super().__init__(msg)
        self.loc, self.msg = loc, msg


# Names people bring from TrainingArguments, peft or other tools -> ours.
ALIASES = {
    "lr": "learning_rate", "num_train_epochs": "epochs", "epoch": "epochs",
    "per_device_train_batch_size": "batch_size", "train_batch_size": "batch_size",
    "gradient_accumulation_steps": "gradient_accumulation", "warmup_steps": "warmup",
    "warmup_ratio": "warmup", "max_seq_length": "max_length", "max_len": "max_length",
    "lr_scheduler_type": "lr_scheduler", "lora_alpha": "alpha", "lora_dropout": "dropout",
    "rank": "r", "patience": "early_stopping_patience", "base_model": "model",
    "dataset": "split", "input": "prompt", "output": "response", "target": "response",
}


def _suggest(key: str, allowed: list[str]) -> str:
    if ALIASES.get(key) in allowed:
        return f" (did you mean '{ALIASES[key]}'?)"
    return did_you_mean(key, allowed)


def parse_config(data: dict, *, source: str | ConfigSource = "config") -> TrainConfig:
    """Validate a config mapping; errors say ``SOURCE: key.path (line N): what is wrong``."""
    where = source if isinstance(source, ConfigSource) else ConfigSource(source)
    source = where.shown
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of keys (model, task, data, ...) "
                          f"at the top level; got {type(data).__name__}")
    return validate(TrainConfig, data, where, suggest=_suggest)


def load_config(path: str | os.PathLike) -> TrainConfig:
    """Read a training config from a YAML file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.yaml"
    >>> _ = p.write_text("model: tiny:gpt2\\ndata: {split: qa, prompt: q, response: a}\\n")
    >>> load_config(p).training.learning_rate
    5e-05
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"{p}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read the config ({exc})") from None
    data, source = read_yaml(text, str(p))
    return parse_config(data if data is not None else {}, source=source)


_LR_LINE = re.compile(r"^(\s+)learning_rate\s*:\s*([^#\n]*)(.*)$", re.MULTILINE)


def write_learning_rate(path: str | os.PathLike, lr: float) -> None:
    """Set ``training.learning_rate`` in a YAML config file, keeping its comments."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    value = f"{lr:.3g}"
    if _LR_LINE.search(text):
        new = _LR_LINE.sub(lambda m: f"{m.group(1)}learning_rate: {value}"
                           f"{' ' + m.group(3).strip() if m.group(3).strip() else ''}",
                           text, count=1)
    elif re.search(r"^training\s*:\s*$", text, re.MULTILINE):
        new = re.sub(r"^(training\s*:\s*)$", lambda m: f"{m.group(1)}\n  learning_rate: {value}",
                     text, count=1, flags=re.MULTILINE)
    else:
        new = text.rstrip("\n") + f"\ntraining:\n  learning_rate: {value}\n"
    data = yaml.safe_load(new)
    if not isinstance(data, dict) or float(data["training"]["learning_rate"]) != float(value):
        raise ConfigError(f"{p}: could not write training.learning_rate back; "
                          f"set it to {value} by hand")
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, p)
