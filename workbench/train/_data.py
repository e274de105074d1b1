"""Training data: resolve the split, check its columns, tokenise examples.

Causal-LM examples use the tokenizer's chat template when it has one (the prompt as a
user turn, the response as the assistant turn) and mask the prompt tokens out of the
loss (label -100). Packing is off: one example per sequence. Seq2seq examples feed the
prompt to the encoder and use the response token ids as labels (the collator pads them
with -100).

Conversations (``data.messages``) are rendered whole with the chat template (ChatML when
the tokenizer has none, set on the tokenizer so the saved model generates the same way)
and the loss falls on every assistant turn and only there: the tokens between the
assistant prompt the template writes before a turn and the end of that turn, found by
rendering each prefix of the conversation (OpenAI's ``weight: 0`` on an assistant turn
leaves it out of the loss too). A conversation longer than ``training.max_length`` is cut
after the last whole turn that fits and ends an assistant turn, so no assistant turn's
labels are ever cut short.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.errors import (
    ConfigError,
    DataError,
    NotFoundError,
    WorkbenchError,
    did_you_mean,
)
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
    chat_template: str | None = None    # conversations: "tokenizer" or "chatml"
    cut: dict[str, int] = field(default_factory=dict)  # conversations cut at a turn


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
            raise type(exc)(f"data.split: {exc}") from None
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
        raise NotFoundError(f"data.train_part: split:{run.id} has no part '{d.train_part}'; "
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
        raise NotFoundError(f"data.eval_part: split:{run.id} has no part '{eval_part}'; "
                            f"it has: {', '.join(parts)}")
    columns = [c for c in dd[d.train_part].column_names if c != "_row_id"]
    keys = ("text", "label") if config.task == "classification" else \
        (("messages",) if d.messages is not None else ("prompt", "response"))
    for key in keys:
        col = getattr(d, key)
        if col not in columns:
            raise ConfigError(f"data.{key}: split:{run.id} has no column '{col}'"
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
    if d.messages is not None:
        return _conversations(tok, config, data)
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
        raise DataError(
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
        raise DataError(f"data.label: column '{d.label}' has {len(names)} class(es) in "
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
        raise DataError(f"data: the training set is empty after tokenisation "
                        f"({len(data.train)} rows, {n_empty} with an empty text or label)")
    return Tokenised(train=train, eval=ev, dropped=dropped, labels=names,
                     eval_prompts=eval_texts)


# ----------------------------------------------------------------------------- conversations
def _checked_conversation(value, where: str) -> list[dict]:
    """A training conversation: readable, roles from ROLES, at least one assistant turn."""
    from ..data import ROLES, parse_messages

    turns = parse_messages(value, where=where)
    for i, t in enumerate(turns):
        if t["role"] not in ROLES:
            raise DataError(f"{where}, turn {i}: role {t['role']!r} is not one of "
                            f"{', '.join(ROLES)}{did_you_mean(t['role'], ROLES)}")
    if not any(t["role"] == "assistant" for t in turns):
        raise DataError(f"{where}: no assistant turn; a training conversation needs one "
                        "to learn from (drop such rows with the format rule and "
                        "'drop_unexpected_rows')")
    return turns


def _render(tok, turns: list[dict], *, generation_prompt: bool = False) -> str:
    return tok.apply_chat_template(turns, tokenize=False,
                                   add_generation_prompt=generation_prompt)


def conversation_spans(tok, turns: list[dict]) -> tuple[str, list[tuple[int, int]],
                                                         list[int]]:
    """``(text, assistant spans, turn ends)`` of one conversation, in characters.

    ``text`` is the whole conversation as the chat template writes it; a span runs from
    the end of the assistant prompt before an assistant turn to the end of that turn;
    ``turn ends`` holds where each turn ends. Raises when the template does not write a
    conversation as a growing text (each prefix a prefix of the whole), since the turns
    could then not be told apart.
    """
    text = _render(tok, turns)
    spans, ends = [], []
    for k, t in enumerate(turns):
        end = len(_render(tok, turns[:k + 1]))
        if not text.startswith(_render(tok, turns[:k + 1])):
            raise ConfigError("the chat template does not write a conversation turn by "
                              "turn (a prefix of the turns is not a prefix of the text), "
                              "so the assistant turns cannot be found")
        ends.append(end)
        if t["role"] == "assistant" and t.get("weight", 1) != 0:
            start = len(_render(tok, turns[:k], generation_prompt=True)) if k else 0
            if not text.startswith(_render(tok, turns[:k], generation_prompt=True)):
                start = ends[k - 1] if k else 0
            spans.append((start, end))
    return text, spans, ends


def _token_starts(tok, text: str) -> tuple[list[int], list[int]]:
    """Token ids of ``text`` and the character where each token starts."""
    if getattr(tok, "is_fast", False):
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
        return enc["input_ids"], [a for a, _ in enc["offset_mapping"]]
    ids, starts, pos = [], [], 0  # slow tokenizers: token by token over the text
    for tid in tok(text, add_special_tokens=False)["input_ids"]:
        ids.append(tid)
        starts.append(pos)
        pos += len(tok.decode([tid]))
    return ids, starts


def encode_conversation(tok, turns: list[dict], max_length: int) -> tuple[dict | None, bool]:
    """One training example (``input_ids``, ``attention_mask``, ``labels``) and whether it
    was cut; ``None`` when not even the first assistant turn fits in ``max_length``.

    Labels are the token ids inside the assistant spans (see
    :func:`conversation_spans`), ``-100`` elsewhere; when the template writes no
    end-of-sequence token, one is added after the last turn and learned.
    """
    text, spans, ends = conversation_spans(tok, turns)
    eos = tok.eos_token or ""
    add_eos = bool(eos) and eos not in text
    if add_eos:
        text += eos
        ends[-1] = len(text)
        if spans and spans[-1][1] == len(text) - len(eos):
            spans[-1] = (spans[-1][0], len(text))
    ids, starts = _token_starts(tok, text)
    cut = False
    if len(ids) > max_length:
        # the last turn boundary that fits and closes an assistant turn
        fits = [e for e in ends if sum(1 for s in starts if s < e) <= max_length]
        closing = [e for e in fits if any(b == e for _, b in spans)]
        if not closing:
            return None, True
        limit = closing[-1]
        keep = sum(1 for s in starts if s < limit)
        ids, starts, cut = ids[:keep], starts[:keep], True
    labels = [tid if any(a <= s < b for a, b in spans) else IGNORE
              for tid, s in zip(ids, starts)]
    if all(lab == IGNORE for lab in labels):
        return None, cut
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}, cut


def _rows(frame, column: str, where: str):
    ids = frame["_row_id"].tolist() if "_row_id" in frame.columns else range(len(frame))
    for rid, value in zip(ids, frame[column].tolist()):
        yield _checked_conversation(value, f"{where} row {rid}")


def _encode_all(tok, frame, column: str, where: str, max_length: int):
    out, cut, too_long, prompts = [], 0, 0, []
    for turns in _rows(frame, column, where):
        ex, was_cut = encode_conversation(tok, turns, max_length)
        if ex is None:
            too_long += 1
            continue
        cut += was_cut
        out.append(ex)
        users = [t["content"] for t in turns if t["role"] == "user"]
        if users:
            prompts.append(users[-1])
    return out, cut, too_long, prompts


def _conversations(tok, config: TrainConfig, data: SplitData) -> Tokenised:
    from ..data import CHATML_TEMPLATE

    d, max_len = config.data, config.training.max_length
    template = "tokenizer"
    if not uses_chat(tok):  # the saved tokenizer keeps it: generation renders the same way
        tok.chat_template = CHATML_TEMPLATE
        template = "chatml"
    part = f"data.messages: {data.ref}:{d.train_part}"
    train, cut, too_long, _ = _encode_all(tok, data.train, d.messages, part, max_len)
    dropped = {"train_too_long": too_long}
    cuts = {"train": cut}
    ev, prompts = [], []
    if data.eval is not None:
        ev, e_cut, e_long, prompts = _encode_all(
            tok, data.eval, d.messages, f"data.messages: {data.ref}:{data.eval_part}", max_len)
        dropped["eval_too_long"] = e_long
        cuts["eval"] = e_cut
    if cut:
        data.notes.append(f"{cut} of {len(data.train)} training conversations were longer "
                          f"than training.max_length={max_len} tokens: cut after the last "
                          "whole assistant turn that fits")
    if not train:
        raise DataError(
            f"data: the training set is empty after tokenisation ({len(data.train)} "
            f"conversations in {data.ref}:{d.train_part}, {too_long} whose first assistant "
            f"turn does not fit in training.max_length={max_len}); raise "
            "training.max_length")
    return Tokenised(train=train, eval=ev, dropped=dropped, eval_prompts=prompts,
                     chat_template=template, cut=cuts)
