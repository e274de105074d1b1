"""Evaluating on conversations: generate the last assistant turn from the turns before it
and score it against the reference (the turn as written in the data).

The history is rendered with the model's chat template (ChatML when it has none, as
training does) followed by the assistant prompt; the generated turn is cut where the
template ends a turn, so the score reads one answer, not a continued dialogue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from ..core.errors import DataError, did_you_mean
from ..generation import GenerationSettings
from ..models import trained_run_id

_MARK = "\u0000WB_END\u0000"


def conversation_cases(frame: pd.DataFrame, messages_col: str, *, where: str
                       ) -> tuple[list[list[dict]], list[str]]:
    """``(histories, references)``: per row, the turns before its last (assistant) turn
    and that turn's content. Raises one line naming the column, or the row and turn."""
    from ..data import is_conversation_column, split_last_turn

    cols = [str(c) for c in frame.columns if c != "_row_id"]
    if messages_col not in frame.columns:
        raise DataError(f"{where}: no column '{messages_col}'{did_you_mean(messages_col, cols)}"
                        f"; columns: {', '.join(cols)}", param="messages_col")
    if not is_conversation_column(frame[messages_col]):
        raise DataError(f"{where}: column '{messages_col}' holds text, not conversations "
                        "(lists of {role, content} turns); name a column of messages",
                        param="messages_col")
    ids = frame["_row_id"].tolist() if "_row_id" in frame.columns else range(len(frame))
    histories, refs = [], []
    for rid, value in zip(ids, frame[messages_col].tolist()):
        history, reference = split_last_turn(value, where=f"{where}: column "
                                                          f"'{messages_col}', row {rid}")
        histories.append(history)
        refs.append(reference)
    return histories, refs


def render_prompts(tokenizer, histories: Sequence[list[dict]]) -> tuple[list[str], str, str]:
    """The prompt text per history (chat template + assistant prompt), the turn's end as
    the template writes it (a stop string), and which template was used."""
    from ..data import CHATML_TEMPLATE

    template, used = getattr(tokenizer, "chat_template", None), "tokenizer"
    if not template:
        template, used = CHATML_TEMPLATE, "chatml"
    prompts = [tokenizer.apply_chat_template(h, tokenize=False, add_generation_prompt=True,
                                             chat_template=template) for h in histories]
    end = ""
    if histories:
        probe = [*histories[0], {"role": "assistant", "content": _MARK}]
        text = tokenizer.apply_chat_template(probe, tokenize=False, chat_template=template)
        tail = text.split(_MARK, 1)[1] if _MARK in text else ""
        end = tail.strip() or tail
    return prompts, end, used


def evaluate_conversations(project, *, model: str, data: str, messages_col: str,
                           metrics: str | Sequence[str] | None = None,
                           slices: Sequence[str] = (), stop: Sequence[str] = (),
                           settings: GenerationSettings = GenerationSettings(),
                           n_resamples: int = 1000, seed: int = 0, use_cache: bool = True,
                           progress: Callable[[int, int], None] | None = None):
    """:func:`workbench.evaluation.evaluate_model` for a column of conversations: the
    prediction is the model's last assistant turn, generated from the turns before it.

    ``messages_col`` names a column of conversations, each ending with an assistant turn
    (its reference); a column of text, or a row without such a turn, raises one line
    (``param="messages_col"`` for a bad column).
    """
    from transformers import AutoTokenizer

    from ..data import render_turns
    from ..generation import generate
    from ..models import inference_device, model_fingerprint, prepare_model
    from ._evaluate import (
        _check_slices,
        _cut,
        _record_run,
        decode_part,
        load_eval_data,
        parse_metrics,
        score_examples,
    )

    names = parse_metrics(metrics)
    frame, label, digest, parent = load_eval_data(project, data)
    histories, refs = conversation_cases(frame, messages_col, where=label)
    slice_cols = _check_slices(frame, slices, label)
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    path = prepare_model(project, model)
    fp = model_fingerprint(path)
    tok = AutoTokenizer.from_pretrained(str(path), trust_remote_code=False)
    prompts, end, used = render_prompts(tok, histories)
    plain = GenerationSettings(**{**settings.__dict__, "chat": False})  # rendered already
    outputs = generate(project, model, prompts, settings=plain, progress=progress,
                       use_cache=use_cache)
    stops = [*([end] if end else []), *stop]
    preds = [_cut(o, stops) for o in outputs]
    ids = frame["_row_id"].tolist() if "_row_id" in frame.columns else list(range(len(frame)))
    device = inference_device().label  # where generate() ran, as probes record it
    report = score_examples(
        preds, refs, metrics=names, ids=ids, prompts=[render_turns(h) for h in histories],
        slices={c: frame[c].tolist() for c in slice_cols}, n_resamples=n_resamples, seed=seed,
        project=project,
        signature_parts={"data": f"{label}#{digest[:12]}", "model": f"{model}#{fp}",
                         "decode": f"{decode_part(settings)},chat:{used},"
                                   f"last-turn:{messages_col}", "device": device})
    for rec, history in zip(report.records, histories):
        rec["history"] = history
    report.source, report.model = label, model
    config: dict[str, Any] = {
        "model": model, "data": label, "metrics": names, "messages_col": messages_col,
        "chat_template": used, "slices": slice_cols, "stop": stops,
        "generation": {**plain.__dict__, "device": device}, "resamples": n_resamples,
        "seed": seed}
    parents = [(parent, "evaluated-on")] if parent else []
    if (tid := trained_run_id(model)) is not None:
        parents.append((("run", tid), "evaluated"))
    return _record_run(project, report, name=f"{model} on {label} (last turn)",
                       config=config, input_hashes={"data": digest, "model": fp},
                       parents=parents, started=started)


__all__ = ["conversation_cases", "evaluate_conversations", "render_prompts"]
