"""Reports: self-contained HTML (Jinja2 with autoescape, inline SVG, no external URL).

Stages hand this package their typed results; it renders them and lists each report in
the store.
"""

from __future__ import annotations

from ._check import render_check_html, write_check_html
from ._evaluation import (
    render_compare_html,
    render_html,
    write_compare_html,
    write_html,
)
from ._probes import (
    compare_html,
    mitigation_html,
    probe_html,
    sign_off_report,
    write_compare_report,
    write_mitigation_report,
    write_probe_report,
)
from ._render import TEMPLATES, render, report_path, write_report
from ._train import lr_chart, write_lr_search_report

__all__ = [
    "compare_html", "lr_chart", "mitigation_html", "probe_html", "render", "render_check_html",
    "render_compare_html", "render_html", "report_path", "sign_off_report", "TEMPLATES", "write_check_html",
    "write_compare_html", "write_compare_report", "write_html",
    "write_lr_search_report", "write_mitigation_report", "write_probe_report",
    "write_report",
]
