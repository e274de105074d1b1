"""The model card (``README.md``) written next to every trained checkpoint."""

from __future__ import annotations

import base64
from pathlib import Path

from .. import __version__

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
    return "\n".join(lines), svg


def write_model_card(project, plan, res, metrics: list[dict], folders: list[Path]) -> Path:
    """Write ``README.md`` (+ ``loss_curve.svg``) into each folder; return the first card."""
    text, svg = render_model_card(plan, res, metrics)
    for d in folders:
        (d / "README.md").write_text(text, encoding="utf-8")
        if svg:
            (d / "loss_curve.svg").write_text(svg, encoding="utf-8")
    return folders[0] / "README.md"
