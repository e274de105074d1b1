"""Predict labels with a classification checkpoint's own head (no generation)."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def predict_labels(project, model: str, texts: Sequence[str], *, batch_size: int = 16,
                   progress: Callable[[int, int], None] | None = None) -> list[str]:
    """The predicted label (``id2label`` of the arg-max logit) for each text, in order.

    The model is loaded as ``AutoModelForSequenceClassification`` and refused if any of its
    weights (the head included) would be newly initialised.
    """
    import torch

    from ..models import load_model

    lm, tok, _path, _task = load_model(project, model, task="classification")
    limit = min(int(getattr(tok, "model_max_length", 512) or 512),
                int(getattr(lm.config, "max_position_embeddings", 512) or 512))
    texts = ["" if t is None else str(t) for t in texts]
    order = sorted(range(len(texts)), key=lambda i: (-len(texts[i]), i))
    out: list[str | None] = [None] * len(texts)
    id2label = {int(k): str(v) for k, v in (lm.config.id2label or {}).items()}
    report = progress or (lambda _d, _t: None)
    report(0, len(texts))
    for start in range(0, len(order), max(1, batch_size)):
        idx = order[start:start + batch_size]
        enc = tok([texts[i] for i in idx], return_tensors="pt", padding=True,
                  truncation=True, max_length=limit)
        with torch.inference_mode():
            best = lm(**enc).logits.argmax(dim=-1).tolist()
        for i, k in zip(idx, best):
            out[i] = id2label.get(int(k), str(k))
        report(min(start + len(idx), len(texts)), len(texts))
    return out  # type: ignore[return-value]
