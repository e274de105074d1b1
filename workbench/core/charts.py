"""Small inline SVG charts with every label escaped (reports, model cards).

No external URL, no JavaScript: a chart is markup that a self-contained HTML file or a
Markdown model card can embed.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from markupsafe import Markup


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def svg_interval_chart(labels: Sequence[str], means: Sequence[float],
                       intervals: Sequence[tuple[float, float]] | None = None, *,
                       title: str = "", xlabel: str = "", width: int = 640) -> Markup:
    """Horizontal dot-and-whisker chart: one row per label, mean with its interval."""
    n = len(labels)
    row_h, left, right, top = 26, 170, 30, 34 if title else 12
    height = top + n * row_h + 34
    lows = [iv[0] for iv in intervals] if intervals else list(means)
    highs = [iv[1] for iv in intervals] if intervals else list(means)
    lo = min([*lows, *means, 0.0])
    hi = max([*highs, *means, 0.0])
    if hi - lo < 1e-12:
        hi, lo = hi + 1, lo - 1
    pad = (hi - lo) * 0.05
    lo, hi = lo - pad, hi + pad
    span = width - left - right

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * span

    parts = [f'<svg width="{width}" height="{height}" '
             f'role="img" aria-label="{_e(title)}" class="chart">']
    if title:
        parts.append(f'<text x="{left}" y="18" class="ct">{_e(title)}</text>')
    parts.append(f'<line x1="{x(0):.1f}" y1="{top - 4}" x2="{x(0):.1f}" '
                 f'y2="{top + n * row_h}" class="zero"/>')
    for i, (lab, m) in enumerate(zip(labels, means)):
        y = top + i * row_h + row_h / 2
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{_e(lab)}</text>')
        if intervals:
            a, b = intervals[i]
            parts.append(f'<line x1="{x(a):.1f}" y1="{y:.1f}" x2="{x(b):.1f}" y2="{y:.1f}" '
                         'class="ci"/>')
        parts.append(f'<circle cx="{x(m):.1f}" cy="{y:.1f}" r="5" class="pt">'
                     f'<title>{_e(lab)}: {m:.3f}</title></circle>')
    axis_y = top + n * row_h + 14
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        parts.append(f'<text x="{x(v):.1f}" y="{axis_y}" text-anchor="middle" class="ax">'
                     f'{v:.2f}</text>')
    if xlabel:
        parts.append(f'<text x="{left + span / 2:.1f}" y="{axis_y + 16}" text-anchor="middle" '
                     f'class="ax">{_e(xlabel)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def svg_line_chart(series: dict[str, Sequence[tuple[float, float]]], *, title: str = "",
                   xlabel: str = "", ylabel: str = "", width: int = 640, height: int = 260,
                   logx: bool = False) -> Markup:
    """A small multi-series line chart (for loss curves, trends)."""
    import math

    pts = [p for s in series.values() for p in s]
    if not pts:
        return Markup("")
    tx = (lambda v: math.log10(v)) if logx else (lambda v: v)
    xs = [tx(p[0]) for p in pts]
    ys = [p[1] for p in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 - x0 < 1e-12:
        x1 += 1
    if y1 - y0 < 1e-12:
        y1 += 1
    left, right, top, bottom = 56, 110, 30 if title else 12, 40
    pw, ph = width - left - right, height - top - bottom

    def px(v):
        return left + (tx(v) - x0) / (x1 - x0) * pw

    def py(v):
        return top + (1 - (v - y0) / (y1 - y0)) * ph

    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"]
    parts = [f'<svg width="{width}" height="{height}" '
             f'role="img" aria-label="{_e(title)}" class="chart">']
    if title:
        parts.append(f'<text x="{left}" y="18" class="ct">{_e(title)}</text>')
    parts.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="frame"/>')
    for k in range(5):
        yv = y0 + (y1 - y0) * k / 4
        parts.append(f'<text x="{left - 6}" y="{py(yv) + 4:.1f}" text-anchor="end" '
                     f'class="ax">{yv:.3g}</text>')
    for k in range(5):
        xv = x0 + (x1 - x0) * k / 4
        label = f"{10 ** xv:.0e}" if logx else f"{xv:.3g}"
        parts.append(f'<text x="{left + pw * k / 4:.1f}" y="{top + ph + 16}" '
                     f'text-anchor="middle" class="ax">{label}</text>')
    if xlabel:
        parts.append(f'<text x="{left + pw / 2}" y="{height - 6}" text-anchor="middle" '
                     f'class="ax">{_e(xlabel)}</text>')
    if ylabel:
        parts.append(f'<text x="12" y="{top + ph / 2}" class="ax" transform="rotate(-90 12 '
                     f'{top + ph / 2})" text-anchor="middle">{_e(ylabel)}</text>')
    for i, (name, s) in enumerate(series.items()):
        c = colors[i % len(colors)]
        if not s:
            continue
        d = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in s)
        parts.append(f'<polyline points="{d}" fill="none" stroke="{c}" stroke-width="2"/>')
        if len(s) == 1:
            parts.append(f'<circle cx="{px(s[0][0]):.1f}" cy="{py(s[0][1]):.1f}" r="3" '
                         f'fill="{c}"/>')
        parts.append(f'<text x="{left + pw + 8}" y="{top + 14 + 16 * i}" fill="{c}">'
                     f'{_e(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# metrics reported in points (0-100); every other metric is a share (0-1)
POINTS_METRICS = ("bleu", "sacrebleu", "chrf", "ter")


def metric_scale(name: str) -> str:
    """The scale a metric is reported on: ``"0-100"`` (BLEU, chrF, TER) or ``"0-1"``.

    >>> metric_scale("bleu"), metric_scale("rougeL"), metric_scale("accuracy")
    ('0-100', '0-1', '0-1')
    """
    return "0-100" if str(name).lower().split("_")[0] in POINTS_METRICS else "0-1"


def svg_metric_charts(labels: Sequence[str], means: Sequence[float],
                      intervals: Sequence[tuple[float, float]] | None = None, *,
                      title: str = "", xlabel: str = "", width: int = 640) -> Markup:
    """Interval charts with one axis per scale: BLEU (0-100) never shares ROUGE's (0-1).

    ``title`` is suffixed with the scale's metrics and range, e.g. "B - A: bleu (0-100)".
    """
    groups: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        groups.setdefault(metric_scale(lab), []).append(i)
    charts = []
    for scale, idx in sorted(groups.items(), key=lambda kv: kv[0] != "0-100"):
        names = [labels[i] for i in idx]
        what = f"{', '.join(map(str, names))} ({scale})"
        charts.append(svg_interval_chart(
            names, [means[i] for i in idx], [intervals[i] for i in idx] if intervals else None,
            title=f"{title}: {what}" if title else what,
            xlabel=f"{xlabel} ({'points' if scale == '0-100' else 'share'})" if xlabel
            else "", width=width))
    return Markup("".join(charts))
