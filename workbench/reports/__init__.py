"""Reports: self-contained HTML (Jinja2 with autoescape, inline SVG, no external URL).

Stages hand this package their typed results; it renders them and lists each report in
the store.

The evaluation, probe and training reports are imported on first use: they import their
stages (evaluation, generation, training: about a tenth of a second), which a process
writing only a check report, such as ``workbench check``, never needs.
"""

from __future__ import annotations

from ._check import render_check_html, write_check_html
from ._render import TEMPLATES, render, report_path, write_report

_EVALUATION = ("render_compare_html", "render_html", "write_compare_html", "write_html")
_PROBES = ("compare_html", "mitigation_html", "probe_html", "sign_off_report",
           "write_compare_report", "write_mitigation_report", "write_probe_report")
_TRAIN = ("lr_chart", "write_lr_search_report")


def __getattr__(name: str):
    """The names of the reports imported on first use (module ``__getattr__``, PEP 562)."""
    if name in _EVALUATION:
        from . import _evaluation as module
    elif name in _PROBES:
        from . import _probes as module
    elif name in _TRAIN:
        from . import _train as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(module, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "compare_html", "lr_chart", "mitigation_html", "probe_html", "render", "render_check_html",
    "render_compare_html", "render_html", "report_path", "sign_off_report", "TEMPLATES", "write_check_html",
    "write_compare_html", "write_compare_report", "write_html",
    "write_lr_search_report", "write_mitigation_report", "write_probe_report",
    "write_report",
]
