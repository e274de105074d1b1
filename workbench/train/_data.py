"""Training data: resolve the split, check its columns, tokenise examples.

Causal-LM examples use the tokenizer's chat template when it has one (the prompt as a
user turn, the response as the assistant turn) and mask the prompt tokens out of the
loss (label -100). Packing is off: one example per sequence. Seq2seq examples feed the
prompt to the encoder and use the response token ids as labels (the collator pads them
with -100).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.errors import NotFoundError, WorkbenchError, did_you_mean
from ._config import TrainConfig

IGNORE = -100


@dataclass
class SplitData:
    """The resolved split: its run, parts and the frames used for training."""

    run: object
    ref: str
    dataset: str | None
    seed: int | None
    signature: str
    train: object                  # pandas DataFrame
    eval: object | None            # pandas DataFrame or None
    eval_part: str | None
    notes: list[str] = field(default_factory=list)


@dataclass
class Tokenised:
    train: list[dict]
    eval: list[dict]
    dropped: dict[str, int]
    labels: list[str] | None = None
    eval_prompts: list[str] = field(default_factory=list)


def _load_split(project, ref):
    from ..splits import load_split

    return load_split(project, ref)


def resolve_split(project, ref: str):
    """``split:ID``, ``ID`` or a dataset ``NAME[@VERSION]`` (its newest split)."""
    from ..core.store import Store
    from ..data import parse_ref

    ref = str(ref).strip()
    if ref.startswith("split:") or ref.isdigit():
        try:
            return _load_split(project, ref)
        except WorkbenchError as exc:
            raise WorkbenchError(f"data.split: {exc}") from None
    name, version = parse_ref(ref)
    from ..splits import list_splits

    store = Store.for_project(project)
    runs = list_splits(project)
    seen: set[str] = set()
    for run in runs:
        ds = (run.outputs.get("manifest") or {}).get("dataset") or {}
        dname, dver = ds.get("name"), str(ds.get("version") or "")
        if not dname:
            parents = store.lineage(("run", run.id))["parents"]
            refs = [p["id"] for p in parents if p["type"] == "dataset"]
            if refs:
                dname, _, dver = refs[0].partition("@")
        if dname:
            seen.add(dname)
        if dname == name and (not version or dver.startswith(version)):
            return _load_split(project, run.id)
    hint = (f"; datasets with splits: {', '.join(sorted(seen))}" if seen else
            "; no splits yet")
    raise NotFoundError(f"data.split: no split of dataset '{ref}'{did_you_mean(name, seen)}"
                        f"{hint} (make one with 'workbench split {name} --label COLUMN')")


def load_split_data(project, config: TrainConfig) -> SplitData:
    """Resolve ``config.data.split`` and pick the train and evaluation frames."""
    from ..core.digest import signature

    d = config.data
    run, dd = resolve_split(project, d.split)
    parts = list(dd.keys())
    notes: list[str] = []
    if d.train_part not in parts:
        raise WorkbenchError(f"data.train_part: split:{run.id} has no part '{d.train_part}'; "
                             f"it has: {', '.join(parts)}")
    eval_part: str | None = d.eval_part
    if eval_part == "auto":
        eval_part = "validation" if "validation" in parts else ("test" if "test" in parts
                                                                else None)
        if eval_part == "test":
            notes.append(f"split:{run.id} has no validation part: the eval loss is measured "
                         "on its test part")
    elif eval_part == "none":
        eval_part = None
    if eval_part and eval_part not in parts:
        raise WorkbenchError(f"data.eval_part: split:{run.id} has no part '{eval_part}'; "
                             f"it has: {', '.join(parts)}")
    columns = [c for c in dd[d.train_part].column_names if c != "_row_id"]
    keys = ("text", "label") if config.task == "classification" else ("prompt", "response")
    for key in keys:
        col = getattr(d, key)
        if col not in columns:
            raise WorkbenchError(f"data.{key}: split:{run.id} has no column '{col}'"
                                 f"{did_you_mean(col, columns)}; columns: {', '.join(columns)}")
    train = dd[d.train_part].to_pandas()
    if d.max_train_rows:
        train = train.head(d.max_train_rows)
    ev = None
    if eval_part:
        ev = dd[eval_part].to_pandas()
        if d.max_eval_rows:
            ev = ev.head(d.max_eval_rows)
    manifest = run.outputs.get("manifest") or {}
    ds = manifest.get("dataset") or {}
    dataset = f"{ds['name']}@{ds['version']}" if ds.get("name") else None
    seed = manifest.get("seed")
    sig = signature(split=f"split:{run.id}", data=dataset, seed=seed,
                    parts=f"{d.train_part}/{eval_part or '-'}")
    return SplitData(run=run, ref=f"split:{run.id}", dataset=dataset, seed=seed, signature=sig,
                     train=train, eval=ev, eval_part=eval_part, notes=notes)


def _pairs(frame, a: str, b: str) -> tuple[list[str], list[str], int]:
    xs, ys, dropped = [], [], 0
    for x, y in zip(frame[a].tolist(), frame[b].tolist()):
        if x is None or y is None or (isinstance(x, float) and x != x) \
                or (isinstance(y, float) and y != y) or not str(x).strip() or not str(y).strip():
            dropped += 1
            continue
        xs.append(str(x).strip())
        ys.append(str(y).strip())
    return xs, ys, dropped


def uses_chat(tok) -> bool:
    return bool(getattr(tok, "chat_template", None))


def prompt_text(tok, prompt: str) -> str:
    """The text the model sees before its answer (chat template when there is one)."""
    if uses_chat(tok):
        return tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                       add_generation_prompt=True)
    return prompt + "\n"


def _response_text(tok, prompt: str, ptext: str, response: str) -> str:
    text = response
    if uses_chat(tok):
        full = tok.apply_chat_template([{"role": "user", "content": prompt},
                                        {"role": "assistant", "content": response}],
                                       tokenize=False)
        if full.startswith(ptext):
            text = full[len(ptext):]
    if tok.eos_token and tok.eos_token not in text:
        text += tok.eos_token
    return text


def _causal(tok, prompts: list[str], responses: list[str], max_length: int):
    ptexts = [prompt_text(tok, p) for p in prompts]
    rtexts = [_response_text(tok, p, pt, r) for p, pt, r in zip(prompts, ptexts, responses)]
    p_ids = tok(ptexts, add_special_tokens=False)["input_ids"] if ptexts else []
    r_ids = tok(rtexts, add_special_tokens=False)["input_ids"] if rtexts else []
    out, too_long = [], 0
    for pi, ri in zip(p_ids, r_ids):
        if len(pi) >= max_length or not ri:
            too_long += 1  # no room for a single response token to learn from
            continue
        ri = ri[: max_length - len(pi)]
        out.append({"input_ids": pi + ri, "attention_mask": [1] * (len(pi) + len(ri)),
                    "labels": [IGNORE] * len(pi) + ri})
    return out, too_long


def _seq2seq(tok, prompts: list[str], responses: list[str], max_length: int,
             start: int | None):
    """Encoder input = the prompt; labels = the response ids (a leading ``start`` dropped:
    the model puts the decoder start token in front itself)."""
    if not prompts:
        return [], 0
    x = tok(prompts, truncation=True, max_length=max_length)["input_ids"]
    y = tok(text_target=responses, truncation=True, max_length=max_length)["input_ids"]
    out, empty = [], 0
    for xi, yi in zip(x, y):
        if start is not None and yi and yi[0] == start:
            yi = yi[1:]
        if not xi or not yi:
            empty += 1
            continue
        out.append({"input_ids": xi, "attention_mask": [1] * len(xi), "labels": yi})
    return out, empty


def tokenise(tok, config: TrainConfig, data: SplitData, *,
             decoder_start: int | None = None) -> Tokenised:
    """Turn the split's frames into model inputs; raise if nothing is left to train on.

    ``decoder_start`` (seq2seq built from an encoder): a token id dropped from the front
    of each response, since the model prepends it as the decoder start.
    """
    d, max_len = config.data, config.training.max_length
    dropped: dict[str, int] = {}
    if config.task == "classification":
        return _classification(tok, config, data)
    if config.task == "seq2seq":
        def pairs_to_rows(ps, rs):
            return _seq2seq(tok, ps, rs, max_len, decoder_start)
    else:
        def pairs_to_rows(ps, rs):
            return _causal(tok, ps, rs, max_len)
    tp, tr, n_empty = _pairs(data.train, d.prompt, d.response)
    train, n_long = pairs_to_rows(tp, tr)
    dropped.update(train_empty=n_empty, train_too_long=n_long)
    ev, eval_prompts = [], []
    if data.eval is not None:
        ep, er, e_empty = _pairs(data.eval, d.prompt, d.response)
        ev, e_long = pairs_to_rows(ep, er)
        dropped.update(eval_empty=e_empty, eval_too_long=e_long)
        eval_prompts = ep
    if not train:
        raise WorkbenchError(
            f"data: the training set is empty after tokenisation ({len(data.train)} rows in "
            f"{data.ref}:{d.train_part}; {n_empty} with an empty {d.prompt}/{d.response}, "
            f"{n_long} whose prompt alone fills training.max_length={max_len}); "
            "raise training.max_length or check the columns")
    return Tokenised(train=train, eval=ev, dropped=dropped, eval_prompts=eval_prompts)


def _classification(tok, config: TrainConfig, data: SplitData) -> Tokenised:
    d, max_len = config.data, config.training.max_length
    texts, labels, n_empty = _pairs(data.train, d.text, d.label)
    names = sorted(set(labels))
    if len(names) < 2:
        raise WorkbenchError(f"data.label: column '{d.label}' has {len(names)} class(es) in "
                             f"{data.ref}:{d.train_part}; classification needs at least 2")
    index = {n: i for i, n in enumerate(names)}
    enc = tok(texts, truncation=True, max_length=max_len) if texts else {"input_ids": []}
    train = [{"input_ids": ids, "attention_mask": [1] * len(ids), "labels": index[y]}
             for ids, y in zip(enc["input_ids"], labels) if ids]
    dropped = {"train_empty": n_empty}
    ev, eval_texts = [], []
    if data.eval is not None:
        et, el, e_empty = _pairs(data.eval, d.text, d.label)
        keep = [(t, y) for t, y in zip(et, el) if y in index]
        dropped.update(eval_empty=e_empty, eval_unseen_label=len(et) - len(keep))
        if keep:
            enc = tok([t for t, _ in keep], truncation=True, max_length=max_len)
            ev = [{"input_ids": ids, "attention_mask": [1] * len(ids), "labels": index[y]}
                  for ids, (_, y) in zip(enc["input_ids"], keep)]
            eval_texts = [t for t, _ in keep]
    if not train:
        raise WorkbenchError(f"data: the training set is empty after tokenisation "
                             f"({len(data.train)} rows, {n_empty} with an empty text or label)")
    return Tokenised(train=train, eval=ev, dropped=dropped, labels=names,
                     eval_prompts=eval_texts)
