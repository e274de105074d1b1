"""Batched, cached text generation for any causal LM spec (evaluation and bias probes).

- Prompts are tokenised once, deduplicated, sorted by length and run in batches with
  left padding (so little compute goes to padding); the batch size halves on
  out-of-memory until one prompt fits.
- Greedy by default. Sampling (``do_sample=True``) draws each prompt's tokens from its own
  ``torch.Generator`` seeded by ``(seed, prompt)``, so a completion does not depend on
  which other prompts share its batch, on the batch size or on the cache.
- An on-disk SQLite cache under ``project.cache_dir / "generations"`` is keyed by
  ``(model fingerprint, prompt, settings)``; a fully cached call never loads the model.

Torch and transformers are imported inside the functions that use them.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

from ..core.digest import sha256_text
from ..core.errors import ConfigError, DataError
from ..core.sqlite import ensure_wal

CACHE_VERSION = 1


@dataclass(frozen=True)
class GenerationSettings:
    """How to decode.

    ``temperature`` and ``top_p`` apply only when ``do_sample`` is true (no top-k cut).
    ``batch_size`` changes speed, never the text. ``chat`` wraps each prompt as a user
    turn with the tokenizer's chat template (and the assistant prompt).
    """

    max_new_tokens: int = 32
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int = 0
    batch_size: int = 64
    chat: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens < 1:
            raise ConfigError(f"max new tokens: must be an integer >= 1; got "
                              f"{self.max_new_tokens!r}", param="max_new_tokens")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ConfigError(f"batch size: must be an integer >= 1; got {self.batch_size!r}",
                              param="batch_size")
        if not self.temperature > 0:
            raise ConfigError(f"temperature: must be > 0; got {self.temperature!r}",
                              param="temperature")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top p: must be in (0, 1]; got {self.top_p!r}", param="top_p")

    def cache_key(self) -> str:
        """The settings that change the text (greedy ignores seed, temperature, top_p)."""
        d = asdict(self)
        d.pop("batch_size")
        if not self.do_sample:
            for k in ("temperature", "top_p", "seed"):
                d.pop(k)
        return json.dumps(d, sort_keys=True)


# ----------------------------------------------------------------------------- cache
class GenerationCache:
    """Completions on disk, safe with several processes (SQLite, WAL, busy timeout)."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "generations.db"
        with closing(self._connect()) as con:
            ensure_wal(con)  # several processes may open the same new file at once
            con.execute("CREATE TABLE IF NOT EXISTS gen (key TEXT PRIMARY KEY, "
                        "model TEXT, text TEXT, created REAL)")

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        con.execute("PRAGMA synchronous=NORMAL")
        return con

    @staticmethod
    def key(fingerprint: str, settings: GenerationSettings, prompt: str, *,
            device: str = "cpu-fp32") -> str:
        """The entry of one completion: model, settings, device and precision, prompt."""
        raw = json.dumps([CACHE_VERSION, fingerprint, settings.cache_key(), device, prompt])
        return sha256_text(raw)

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with closing(self._connect()) as con:
            for i in range(0, len(keys), 500):
                chunk = list(keys[i:i + 500])
                q = f"SELECT key, text FROM gen WHERE key IN ({','.join('?' * len(chunk))})"
                found.update(con.execute(q, chunk).fetchall())
        return found

    def put_many(self, model: str, items: dict[str, str]) -> None:
        if not items:
            return
        now = time.time()
        with closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")
            con.executemany("INSERT OR REPLACE INTO gen VALUES (?, ?, ?, ?)",
                            [(k, model, v, now) for k, v in items.items()])
            con.execute("COMMIT")


def cache_for(project) -> GenerationCache:
    return GenerationCache(project.cache_dir / "generations")


# ----------------------------------------------------------------------------- models
_LOADED: dict[tuple[str, str], tuple] = {}


def _load(project, spec: str, fingerprint: str, device=None):
    """Load a model once per process (the last one used stays in memory), on ``device``
    (a :class:`workbench.models.DeviceChoice`; default: CUDA when present, else CPU)."""
    from ..models import inference_device, place_model

    device = device or inference_device()
    key = (str(project.root), fingerprint, device.label)
    if key not in _LOADED:
        from ..core.output import show_progress
        from ..models import load_model

        if not show_progress():
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        _LOADED.clear()
        model, tok, _path, task = load_model(project, spec)
        if task == "classification":
            raise ConfigError(f"model '{spec}': a classification model predicts labels "
                              "and does not generate text")
        _LOADED[key] = (place_model(model, device), tok)
    return _LOADED[key]


def encode_prompts(tokenizer, prompts: Sequence[str], *, chat: bool = False,
                   max_prompt_tokens: int | None = None) -> list[list[int]]:
    """Token ids of each prompt as the engine feeds them to the model.

    Long prompts keep their last ``max_prompt_tokens`` tokens; an empty prompt becomes
    the BOS (or EOS) token so there is something to continue.
    """
    if chat:
        if not getattr(tokenizer, "chat_template", None):
            raise ConfigError("chat: this model's tokenizer has no chat template; "
                              "run without chat", param="chat")
        texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}],
                                               add_generation_prompt=True, tokenize=False)
                 for p in prompts]
        ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    else:
        ids = [tokenizer(p)["input_ids"] for p in prompts]
    start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else \
        tokenizer.eos_token_id
    out = []
    for x in ids:
        x = list(x) or [start]
        if max_prompt_tokens and len(x) > max_prompt_tokens:
            x = x[-max_prompt_tokens:]
        out.append(x)
    return out


def _pad_id(model, tokenizer) -> int:
    for v in (tokenizer.pad_token_id, model.generation_config.pad_token_id,
              tokenizer.eos_token_id):
        if v is not None:
            return int(v[0] if isinstance(v, list) else v)
    return 0


def _generation_config(model, tokenizer, settings: GenerationSettings):
    from ..models._hf import hf
    GenerationConfig = hf("GenerationConfig")

    eos = model.generation_config.eos_token_id
    if eos is None:
        eos = tokenizer.eos_token_id
    # Sampling is done by our own logits processor (per-prompt generators), so the
    # library always decodes "greedily" over its output.
    extra = {}
    if _encoder_decoder(model):
        extra["decoder_start_token_id"] = (model.generation_config.decoder_start_token_id
                                           or getattr(model.config, "decoder_start_token_id",
                                                      None))
    return GenerationConfig(max_new_tokens=settings.max_new_tokens, do_sample=False,
                            eos_token_id=eos, pad_token_id=_pad_id(model, tokenizer),
                            bos_token_id=model.generation_config.bos_token_id, **extra)


def _encoder_decoder(model) -> bool:
    """A seq2seq model: the prompt goes to the encoder, the decoder writes the answer."""
    return bool(getattr(model.config, "is_encoder_decoder", False))


def _generators(seeds: Sequence[int], prompts: Sequence[str]) -> list:
    """One ``torch.Generator`` per row, seeded by ``(seed, prompt)`` of that row."""
    import torch

    gens = []
    for s, p in zip(seeds, prompts):
        seed = int.from_bytes(bytes.fromhex(sha256_text(f"{s}\0{p}", length=16)),
                              "little") & ((1 << 63) - 1)
        gens.append(torch.Generator().manual_seed(seed))
    return gens


def _sample_rows(scores, gens: Sequence, settings: GenerationSettings):
    """Row ``i``'s next token drawn from its own generator ``gens[i]`` (temperature, top-p)."""
    import torch

    scores = scores.float() / settings.temperature
    probs = torch.softmax(scores, dim=-1)
    if settings.top_p < 1.0:
        sp, si = torch.sort(probs, descending=True, dim=-1)
        cum = sp.cumsum(dim=-1)
        drop = (cum - sp) >= settings.top_p  # keep the smallest set reaching top_p
        sp = sp.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, si, sp)
    probs = probs.cpu()  # the generators live on the CPU
    return torch.cat([torch.multinomial(probs[i], 1, generator=g) for i, g in enumerate(gens)])


def _sampler(settings: GenerationSettings, prompts: Sequence[str], seeds: Sequence[int]):
    """A logits processor that samples row i with the generator seeded by prompt i."""
    import torch

    from ..models._hf import hf
    LogitsProcessor = hf("LogitsProcessor")

    gens = _generators(seeds, prompts)

    class _Sample(LogitsProcessor):
        def __call__(self, input_ids, scores):
            tok = _sample_rows(scores, gens, settings).to(scores.device)
            out = torch.full_like(scores, float("-inf"))
            out[torch.arange(scores.shape[0], device=scores.device), tok] = 0.0
            return out

    return _Sample()


def _is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


def _fast_path(model, settings: GenerationSettings) -> str | None:
    """The name of the cache argument when our own decode loop applies to ``model``.

    It needs a decoder-only model whose forward takes a KV cache, position ids and
    ``logits_to_keep``; an encoder-decoder (or an older signature) goes through
    ``model.generate``.
    """
    import inspect

    if _encoder_decoder(model):
        return None
    params = inspect.signature(model.forward).parameters
    if "position_ids" not in params or "logits_to_keep" not in params:
        return None
    return next((n for n in ("cache", "past_key_values") if n in params), None)


def _decode_batch(model, rows: Sequence[Sequence[int]], *, cache_arg: str, pad: int,
                  stops: set[int], max_new_tokens: int, pick: Callable) -> list[list[int]]:
    """New tokens for each row: our greedy/sampled decode loop over the model's forward.

    What makes it fast on a CPU, where every step costs a pass over all the weights:

    - the prefix all rows share (the chat template's system prompt) is run once, and its
      KV cache copied to every row; identical rows (K samples of one prompt) are prefilled
      once and their cache copied K times;
    - the prompts' suffixes are left-padded after the prefix and masked, with position ids
      that count real tokens only, so each row sees exactly its own prompt;
    - only the last position's logits are computed;
    - a row that emits an end token leaves the batch at once (its cache rows are dropped),
      so later steps run on fewer rows.

    ``pick(logits, alive)`` returns the next token of each still-running row (``alive``:
    their row numbers) from its logits.
    """
    import os

    import torch

    from ..models._hf import hf

    DynamicCache = hf("DynamicCache")
    dev = model.device
    where: dict[tuple, int] = {}
    row_of = [where.setdefault(tuple(r), len(where)) for r in rows]
    uniq = list(where)
    # every row keeps at least its last token to prefill: its logits start the answer
    p = min(len(os.path.commonprefix(uniq)), min(len(u) for u in uniq) - 1)
    cache = DynamicCache(config=model.config)
    keep1 = {"logits_to_keep": 1}
    long = {"dtype": torch.long, "device": dev}
    if p > 0:
        model(input_ids=torch.tensor([uniq[0][:p]], **long), use_cache=True,
              **{cache_arg: cache}, **keep1)
        cache.batch_select_indices(torch.zeros(len(uniq), **long))
    width = max(len(u) for u in uniq) - p
    ids = torch.full((len(uniq), width), pad, **long)
    mask = torch.zeros((len(uniq), p + width), **long)
    mask[:, :p] = 1
    for r, u in enumerate(uniq):
        ids[r, width - len(u) + p:] = torch.tensor(u[p:], **long)
        mask[r, p + width - len(u) + p:] = 1
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    logits = model(input_ids=ids, attention_mask=mask, position_ids=pos[:, p:], use_cache=True,
                   **{cache_arg: cache}, **keep1).logits[:, -1]
    if row_of != list(range(len(rows))):
        sel = torch.tensor(row_of, **long)
        cache.batch_select_indices(sel)
        logits, mask, pos = logits[sel], mask[sel], pos[sel]
    last = pos[:, -1:]
    alive = list(range(len(rows)))
    new: list[list[int]] = [[] for _ in rows]
    for step in range(max_new_tokens):
        nxt = pick(logits, alive)
        running = []
        for j, (r, t) in enumerate(zip(alive, nxt.tolist())):
            new[r].append(t)
            if t not in stops:
                running.append(j)
        if step == max_new_tokens - 1 or not running:
            break
        if len(running) < len(alive):  # retire finished rows
            k = torch.tensor(running, **long)
            cache.batch_select_indices(k)
            nxt, mask, last = nxt[k], mask[k], last[k]
            alive = [alive[j] for j in running]
        mask = torch.cat([mask, mask.new_ones((len(alive), 1))], dim=1)
        last = last + 1
        logits = model(input_ids=nxt[:, None], attention_mask=mask, position_ids=last,
                       use_cache=True, **{cache_arg: cache}, **keep1).logits[:, -1]
    return new


def _generate_batch(model, input_ids, mask, gen_cfg, *, settings, prompts, seeds):
    """One batch through ``model.generate`` (encoder-decoder models, older signatures)."""
    import torch

    kwargs = {}
    if settings.do_sample:
        from ..models._hf import hf
        LogitsProcessorList = hf("LogitsProcessorList")

        kwargs["logits_processor"] = LogitsProcessorList([_sampler(settings, prompts, seeds)])
    with torch.inference_mode():
        return model.generate(input_ids=input_ids, attention_mask=mask,
                              generation_config=gen_cfg, **kwargs)


def generate_ids(model, tokenizer, prompt_ids: Sequence[Sequence[int]], *,
                 settings: GenerationSettings = GenerationSettings(),
                 prompts: Sequence[str] | None = None,
                 seeds: Sequence[int] | None = None,
                 on_batch: Callable[[list[int], list[list[int]]], None] | None = None,
                 ) -> list[list[int]]:
    """New token ids for each prompt (input order), in length-grouped batches.

    Decoder-only models run through our own decode loop (a shared-prefix KV cache, rows
    retired as they finish: see :func:`_decode_batch`); encoder-decoder models through
    ``model.generate`` with padded batches. Greedy output equals one-prompt-at-a-time
    ``model.generate``.

    Parameters
    ----------
    model, tokenizer
        A loaded causal LM or encoder-decoder (seq2seq) model and its tokenizer.
    prompt_ids
        Token ids per prompt (see :func:`encode_prompts`).
    settings
        Decoding settings.
    prompts
        The prompt texts, used to seed sampling per prompt (required when sampling).
    seeds
        A sampling seed per row (default ``settings.seed`` for all): K samples of a prompt
        are K rows with the same ids and seeds ``s, s+1, ...``, prefilled once.
    on_batch
        Called with ``(indices, new_ids)`` after each batch.
    """
    if settings.do_sample and prompts is None:
        raise ValueError("prompts are needed to seed sampling")
    n = len(prompt_ids)
    seeds = list(seeds) if seeds is not None else [settings.seed] * n
    first: dict[tuple, int] = {}  # rows with the same ids side by side: prefilled once
    order = sorted(range(n), key=lambda i: (-len(prompt_ids[i]),
                                            first.setdefault(tuple(prompt_ids[i]), i), i))
    pad = _pad_id(model, tokenizer)
    gen_cfg = _generation_config(model, tokenizer, settings)
    eos = gen_cfg.eos_token_id
    stops = set(eos if isinstance(eos, list) else [eos]) - {None}
    # A decoder-only model continues the prompt, so prompts are left-padded and the new
    # tokens follow them; an encoder reads a right-padded prompt (its positions start at 0
    # as in training) and the decoder's output is all new, after its start token.
    enc_dec = _encoder_decoder(model)
    cache_arg = _fast_path(model, settings)
    results: list[list[int] | None] = [None] * n
    bs, pos = settings.batch_size, 0
    while pos < n:
        idx = order[pos:pos + bs]
        texts = [prompts[i] for i in idx] if prompts else None
        row_seeds = [seeds[i] for i in idx]
        try:
            if cache_arg:
                new = _fast_batch(model, [prompt_ids[i] for i in idx], cache_arg=cache_arg,
                                  pad=pad, stops=stops, settings=settings, prompts=texts,
                                  seeds=row_seeds)
            else:
                new = _padded_batch(model, [prompt_ids[i] for i in idx], gen_cfg, pad=pad,
                                    stops=stops, enc_dec=enc_dec, settings=settings,
                                    prompts=texts, seeds=row_seeds)
        except (RuntimeError, MemoryError) as exc:
            if not (isinstance(exc, MemoryError) or _is_oom(exc)):
                raise
            if bs == 1:
                raise DataError("generation: out of memory even with batch size 1; "
                                "use shorter prompts or fewer new tokens") from None
            bs = max(1, bs // 2)
            continue
        for i, s in zip(idx, new):
            results[i] = s
        if on_batch:
            on_batch(idx, new)
        pos += len(idx)
    return results  # type: ignore[return-value]


def _fast_batch(model, rows, *, cache_arg, pad, stops, settings, prompts, seeds):
    import torch

    if settings.do_sample:
        gens = _generators(seeds, prompts)

        def pick(logits, alive):
            return _sample_rows(logits, [gens[r] for r in alive], settings).to(logits.device)
    else:
        def pick(logits, alive):
            return logits.argmax(-1)
    with torch.inference_mode():
        return _decode_batch(model, rows, cache_arg=cache_arg, pad=pad, stops=stops,
                             max_new_tokens=settings.max_new_tokens, pick=pick)


def _padded_batch(model, rows, gen_cfg, *, pad, stops, enc_dec, settings, prompts, seeds):
    """One padded batch through ``model.generate``; the new tokens cut after an end token."""
    import torch

    width = max(len(x) for x in rows)
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for r, x in enumerate(rows):
        at = 0 if enc_dec else width - len(x)
        input_ids[r, at:at + len(x)] = torch.tensor(x, dtype=torch.long)
        mask[r, at:at + len(x)] = 1
    dev = model.device
    out = _generate_batch(model, input_ids.to(dev), mask.to(dev), gen_cfg, settings=settings,
                          prompts=prompts, seeds=seeds)
    new = []
    for r in range(len(rows)):
        seq = out[r, 1:].tolist() if enc_dec else out[r, width:].tolist()
        cut = next((j for j, t in enumerate(seq) if t in stops), None)
        new.append(seq[:cut + 1] if cut is not None else seq)
    return new


def _tqdm_progress(total: int):
    from tqdm import tqdm

    from ..core.output import show_progress

    bar = tqdm(total=total, desc="generating", unit="prompt", file=sys.stderr,
               disable=not show_progress())

    def update(done: int, _total: int) -> None:
        bar.update(done - bar.n)
        if done >= _total:
            bar.close()

    return update


def generate(project, model: str, prompts: Sequence[str], *,
             settings: GenerationSettings = GenerationSettings(),
             progress: Callable[[int, int], None] | None = None,
             use_cache: bool = True, across_processes: bool = False) -> list[str]:
    """One completion (without the prompt) per prompt, in input order.

    Parameters
    ----------
    project
        The workbench project (model cache, generation cache).
    model
        Any model spec (``tiny:gpt2``, ``packaged:...``, ``run:ID``, a folder).
    prompts
        Prompt texts; identical prompts are generated once.
    settings
        Decoding settings; K samples per prompt are K calls with ``seed=s+k``.
    progress
        ``progress(done, total)`` over prompts; default a tqdm bar on a terminal.
    use_cache
        Read and write the on-disk cache.
    across_processes
        Inside an ``accelerate launch`` / ``torchrun`` run: share the prompts among the
        processes (every process calls with the same prompts and gets every completion);
        see :mod:`workbench.models`.

    Examples
    --------
    >>> from workbench.core.project import init_project
    >>> import tempfile
    >>> p = init_project(tempfile.mkdtemp() + "/p")
    >>> out = generate(p, "tiny:gpt2", ["Will it rain?", "Will it rain?"],
    ...                settings=GenerationSettings(max_new_tokens=4), progress=lambda d, t: None)
    >>> len(out), out[0] == out[1]
    (2, True)
    """
    if across_processes:
        return generate_across_processes(project, model, prompts, settings=settings,
                                         progress=progress, use_cache=use_cache)
    return generate_samples(project, model, prompts, samples=1, settings=settings,
                            progress=progress, use_cache=use_cache)[0]


def generate_samples(project, model: str, prompts: Sequence[str], *, samples: int,
                     settings: GenerationSettings = GenerationSettings(),
                     progress: Callable[[int, int], None] | None = None,
                     use_cache: bool = True) -> list[list[str]]:
    """``samples`` completions per prompt: ``out[k][i]`` is sample ``k`` of prompt ``i``.

    Sample ``k`` is what :func:`generate` gives with ``seed=settings.seed + k`` (the same
    text and the same cache entries), but all K are decoded together: each prompt's KV
    cache is computed once and shared by its K rows, so K samples cost much less than K
    calls. Greedy settings give one completion, repeated K times.
    """
    from dataclasses import replace

    from ..models import inference_device, model_fingerprint, prepare_model

    if not isinstance(samples, int) or samples < 1:
        raise ConfigError(f"samples: must be an integer >= 1; got {samples!r}", param="samples")
    prompts = ["" if p is None else str(p) for p in prompts]
    total = len(prompts) * samples
    report = progress or _tqdm_progress(total)
    path = prepare_model(project, model)
    fp = model_fingerprint(path)
    device = inference_device()
    seeds = [settings.seed + k for k in range(samples)] if settings.do_sample else \
        [settings.seed] * samples
    rows = list(dict.fromkeys((p, s) for s in seeds for p in prompts))  # (prompt, seed)
    keys = {r: GenerationCache.key(fp, replace(settings, seed=r[1]), r[0], device=device.label)
            for r in rows}
    cache = cache_for(project) if use_cache else None
    hits = cache.get_many(list(keys.values())) if cache else {}
    done_text = {r: hits[keys[r]] for r in rows if keys[r] in hits}
    todo = [r for r in rows if r not in done_text]
    counts: dict[tuple[str, int], int] = {}
    for s in seeds:
        for p in prompts:
            counts[(p, s)] = counts.get((p, s), 0) + 1
    done = sum(counts[r] for r in done_text)
    report(done, total)
    if todo:
        lm, tok = _load(project, model, fp, device)
        distinct = list(dict.fromkeys(p for p, _ in todo))
        ids = dict(zip(distinct, encode_prompts(tok, distinct, chat=settings.chat,
                                                max_prompt_tokens=_max_prompt(lm, settings))))

        def on_batch(idx: list[int], new: list[list[int]]) -> None:
            nonlocal done
            texts = {todo[i]: tok.decode(s, skip_special_tokens=True) for i, s in zip(idx, new)}
            done_text.update(texts)
            if cache:
                cache.put_many(fp, {keys[r]: t for r, t in texts.items()})
            done += sum(counts[r] for r in texts)
            report(done, total)

        generate_ids(lm, tok, [ids[p] for p, _ in todo], settings=settings,
                     prompts=[p for p, _ in todo], seeds=[s for _, s in todo],
                     on_batch=on_batch)
    elif not total:
        report(0, 0)
    return [[done_text[(p, s)] for p in prompts] for s in seeds]


def _max_prompt(lm, settings: GenerationSettings) -> int | None:
    """Prompt tokens that fit the model's window (long prompts keep their end)."""
    enc_dec = _encoder_decoder(lm)
    cfg = getattr(lm.config, "encoder", None) or lm.config if enc_dec else lm.config
    limit = getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", None)
    # a decoder-only model's window holds the prompt and the new tokens; an encoder's
    # holds the prompt alone
    room = 0 if enc_dec else settings.max_new_tokens
    return max(1, limit - room) if isinstance(limit, int) else None


def generate_across_processes(project, model: str, prompts: Sequence[str], *,
                              settings=None,
                              progress: Callable[[int, int], None] | None = None,
                              use_cache: bool = True) -> list[str]:
    """Every completion, in input order, with the work shared by the launched processes.

    Each process must call this with the same ``prompts`` and ``settings``. Identical
    prompts are generated once; each process writes its own completions to the shared
    on-disk cache (SQLite, safe with several writers). In one process this is
    :func:`workbench.generation.generate`. Greedy output equals a single-process run.
    """
    from ..models import partial_state, world

    settings = settings or GenerationSettings()
    if world()[1] <= 1:
        return generate(project, model, prompts, settings=settings, progress=progress,
                        use_cache=use_cache)
    from accelerate.utils import gather_object

    from ..models import prepare_model

    state = partial_state()
    with state.main_process_first():  # one process builds or converts the model
        prepare_model(project, model)
    prompts = ["" if p is None else str(p) for p in prompts]
    unique = list(dict.fromkeys(prompts))
    quiet = progress if state.is_main_process else (lambda done, total: None)
    with state.split_between_processes(unique) as mine:
        texts = generate(project, model, list(mine), settings=settings, progress=quiet,
                         use_cache=use_cache)
    gathered = gather_object(list(texts))  # concatenated in rank order = unique's order
    if len(gathered) != len(unique):
        raise RuntimeError(f"gathered {len(gathered)} completions for {len(unique)} prompts")
    by_prompt = dict(zip(unique, gathered))
    return [by_prompt[p] for p in prompts]
