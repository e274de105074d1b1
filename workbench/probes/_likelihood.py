"""Sentence log-likelihood under a causal LM (for CrowS-Pairs, WinoBias, Winogender)."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def sequence_logliks(project, model: str, texts: Sequence[str], *, batch_size: int = 16,
                     progress: Callable[[int, int], None] | None = None) -> list[float]:
    """Sum of token log-probabilities of each text, every token scored.

    The beginning-of-sequence token (or, lacking one, end-of-sequence) is put in front so
    the first word is scored too. The sum (not the mean) is what lm-evaluation-harness
    compares for CrowS-Pairs: the two sentences of a pair differ in a few words only.
    """
    import torch

    from ..models import load_causal_lm, place_model

    lm, tok, _ = load_causal_lm(project, model)
    lm = place_model(lm)  # CUDA in bf16/fp16 when present; the CPU in fp32
    start = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
    pad = tok.pad_token_id if tok.pad_token_id is not None else (start or 0)
    out: list[float] = []
    with torch.no_grad():
        for i in range(0, len(texts), batch_size):
            chunk = [str(t) for t in texts[i:i + batch_size]]
            ids = [tok(t, add_special_tokens=False)["input_ids"] for t in chunk]
            ids = [([start] if start is not None else []) + x for x in ids]
            width = max(len(x) for x in ids)
            input_ids = torch.full((len(ids), width), pad, dtype=torch.long)
            mask = torch.zeros((len(ids), width), dtype=torch.long)
            for r, x in enumerate(ids):
                input_ids[r, :len(x)] = torch.tensor(x)
                mask[r, :len(x)] = 1
            input_ids, mask = input_ids.to(lm.device), mask.to(lm.device)
            logits = lm(input_ids=input_ids, attention_mask=mask).logits.float()
            logp = torch.log_softmax(logits[:, :-1], dim=-1)
            target = input_ids[:, 1:]
            tok_lp = logp.gather(-1, target.unsqueeze(-1)).squeeze(-1) * mask[:, 1:]
            out += tok_lp.sum(-1).cpu().tolist()
            if progress:
                progress(min(i + batch_size, len(texts)), len(texts))
    return [float(x) for x in out]
