"""The model card (``README.md``) written next to every trained checkpoint."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from .. import __version__

RISKS_HEADING = "## Bias, Risks, and Limitations"
_SVG_STYLE = ("<style>text{font:12px sans-serif;fill:#1b1f24}.ax{fill:#57606a;font-size:11px}"
              ".ct{font-weight:600}.frame{fill:none;stroke:#ddd}</style>")


def standalone_svg(markup: str) -> str:
    """Make a chart from ``report.svg_line_chart`` valid and styled on its own."""
    return str(markup).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1) \
        .replace(">", ">" + _SVG_STYLE, 1)


def loss_curve_svg(metrics: list[dict], *, title: str = "loss per step") -> str:
    """Train and eval loss per step as a standalone SVG ('' when nothing was logged)."""
    from ..core.charts import svg_line_chart

    latest: dict[tuple[int, str], float] = {}
    for m in metrics:  # a resumed run may repeat a step: keep the last value
        latest[(m["step"], m["key"])] = m["value"]
    series = {
        "train loss": sorted((s, v) for (s, k), v in latest.items() if k == "loss"),
        "eval loss": sorted((s, v) for (s, k), v in latest.items() if k == "eval_loss"),
    }
    series = {k: v for k, v in series.items() if v}
    if not series:
        return ""
    return standalone_svg(svg_line_chart(series, title=title, xlabel="step", ylabel="loss"))


def _code(text: str | None) -> str:
    body = (text or "(empty)").replace("```", "` ` `")
    return f"```text\n{body}\n```"


def _fmt(v) -> str:
    return "n/a" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))


def _conversation_lines(cfg, tokenised) -> list[str]:
    """What the card says about training on conversations: template, loss, cuts."""
    template = getattr(tokenised, "chat_template", None)
    how = ("the tokenizer's own chat template" if template == "tokenizer" else
           "ChatML (`<|im_start|>role ... <|im_end|>`): the tokenizer had no chat template, "
           "so ChatML was used and saved with the model")
    cut = getattr(tokenised, "cut", {}) or {}
    max_len = cfg.training.max_length
    return [f"- column: `{cfg.data.messages}` (conversations); loss on every assistant turn "
            "and only there (assistant turns with `weight: 0` left out)",
            f"- chat template: {how}",
            f"- cut at a turn boundary to fit max_length={max_len}: {cut.get('train', 0)} "
            f"train, {cut.get('eval', 0)} eval conversations (never inside an assistant "
            "turn)"]


def render_model_card(plan, res, metrics: list[dict]) -> tuple[str, str]:
    """Return ``(markdown, svg)`` for the card."""
    from ..core.digest import signature

    cfg = plan.config
    t = cfg.training
    svg = loss_curve_svg(metrics)
    sig = signature(train=f"run:{res.run_id}", model=cfg.model, model_fp=plan.model_fp,
                    split=plan.data.ref, data=plan.data.dataset, method=cfg.method,
                    lr=f"{t.learning_rate:g}", seed=t.seed)
    lines = [
        "---",
        f"base_model: {plan.model_path}",
        f"library_name: {'peft' if cfg.method == 'lora' else 'transformers'}",
        "tags: [workbench, " + cfg.task + (", lora]" if cfg.method == "lora" else "]"),
        "---",
        "",
        f"# {cfg.name or 'Fine-tuned model'} (run:{res.run_id})",
        "",
        f"Fine-tuned from `{cfg.model}` (weights fingerprint `{plan.model_fp}`) with "
        f"workbench {__version__}, task `{cfg.task}`, method `{cfg.method}`.",
        "",
        f"Signature: `{sig}`",
        "",
        "## Data",
        "",
        f"- split: `{plan.data.ref}` (`{plan.data.signature}`)",
        f"- dataset: `{plan.data.dataset or 'unknown'}`; split seed: {_fmt(plan.data.seed)}",
    ]
    if cfg.task == "classification":
        lines.append(f"- columns: `{cfg.data.text}` -> `{cfg.data.label}`; labels: "
                     + ", ".join(f"`{lab}`" for lab in (plan.tokenised.labels or [])))
    elif cfg.task == "seq2seq":
        arch = type(getattr(plan, "model", None)).__name__
        lines.append(f"- columns: `{cfg.data.prompt}` (encoder input) -> "
                     f"`{cfg.data.response}` (decoder labels); model: `{arch}`")
    elif cfg.data.messages is not None:
        lines += _conversation_lines(cfg, plan.tokenised)
    else:
        lines.append(f"- columns: `{cfg.data.prompt}` -> `{cfg.data.response}` (loss on the "
                     "response tokens only; chat template: "
                     f"{'yes' if getattr(plan.tokenizer, 'chat_template', None) else 'no'})")
    lines += [f"- examples: {len(plan.tokenised.train)} train, {len(plan.tokenised.eval)} eval "
              f"({plan.data.eval_part or 'no eval part'}); dropped: "
              + (", ".join(f"{k} {v}" for k, v in res.dropped.items() if v) or "none")]
    lines += [f"- note: {n}" for n in res.notes]
    lines += ["", "## Training", "", "| setting | value |", "|---|---|"]
    rows = {**t.model_dump(), "device": res.device.get("device"),
            "precision": res.device.get("precision")}
    if cfg.method == "lora":
        rows.update({f"lora.{k}": v for k, v in cfg.lora.model_dump().items()})
    lines += [f"| {k} | {_fmt(v)} |" for k, v in rows.items()]
    lines += ["", "## Results", "",
              f"- steps: {res.steps}" + (f" (resumed from run:{res.resumed_from['run']} at "
                                         f"step {res.resumed_from['step']})"
                                         if res.resumed_from else ""),
              f"- final train loss: {_fmt(res.train_loss)}",
              f"- eval loss: {_fmt(res.eval_loss_start)} before -> {_fmt(res.eval_loss_end)} "
              "after",
              f"- samples per second: {_fmt(res.samples_per_s)}", ""]
    if svg:
        b64 = base64.b64encode(svg.encode()).decode()
        lines += ["## Loss curve", "", f"![loss curve](data:image/svg+xml;base64,{b64})", "",
                  "(also in `loss_curve.svg`)", ""]
    if res.example:
        ex = res.example
        lines += ["## Example: before and after", "", "Prompt:", "", _code(ex["prompt"]), "",
                  "Base model:", "", _code(ex["before"]), "", "Fine-tuned:", "",
                  _code(ex["after"]), ""]
    lines += [RISKS_HEADING, "", "No evaluation or bias probe of this model is recorded yet. "
              f"After `workbench evaluate --model run:{res.run_id}` or `workbench probe "
              f"--model run:{res.run_id}`, `workbench model-card run:{res.run_id}` writes their "
              "results, the latest bias verdicts and the sign-off here.", ""]
    return "\n".join(lines), svg


def write_model_card(project, plan, res, metrics: list[dict], folders: list[Path]) -> Path:
    """Write ``README.md`` (+ ``loss_curve.svg``) into each folder; return the first card."""
    text, svg = render_model_card(plan, res, metrics)
    for d in folders:
        (d / "README.md").write_text(text, encoding="utf-8")
        if svg:
            (d / "loss_curve.svg").write_text(svg, encoding="utf-8")
    return folders[0] / "README.md"


# ------------------------------------------------------------- evaluation results, risks
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&:@])")


def md_text(text) -> str:
    """``text`` as literal Markdown on one line (untrusted text: names, comments)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _split_card(text: str) -> tuple[dict, str]:
    """``(front matter, body)`` of a card (``---`` YAML ``---`` then Markdown)."""
    import yaml

    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end > 0:
            meta = yaml.safe_load(text[4:end]) or {}
            if isinstance(meta, dict):
                return meta, text[end + 5:]
    return {}, text


def _drop_section(body: str, heading: str) -> str:
    """``body`` without the section under ``heading`` (up to the next ``## `` heading)."""
    start = body.find(heading + "\n")
    if start < 0:
        return body
    nxt = body.find("\n## ", start + len(heading))
    return body[:start].rstrip() + "\n" + (body[nxt:] if nxt >= 0 else "")


def update_model_card(path: str | Path, *, model_index: list[dict], risks: list[str]) -> str:
    """Rewrite a card's ``model-index`` metadata and its "Bias, Risks, and Limitations"
    section (everything else is kept); return the new text.

    ``model_index`` is Hugging Face's list of ``{"name", "results": [{"task", "dataset",
    "metrics"}]}``; ``risks`` the section's Markdown lines (already escaped).
    """
    import yaml

    path = Path(path)
    meta, body = _split_card(path.read_text(encoding="utf-8"))
    meta.pop("model-index", None)
    if model_index:
        meta["model-index"] = model_index
    body = _drop_section(body, RISKS_HEADING).rstrip() + "\n\n" + RISKS_HEADING + "\n\n" \
        + "\n".join(risks) + "\n"
    text = "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n" + body
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return text
