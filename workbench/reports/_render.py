"""Self-contained HTML reports: Jinja2 with autoescape, inline CSS, inline SVG charts.

No external URL ever appears in a report, so it opens offline and can be handed to a
reviewer as one file. Every value from data or a model is escaped by Jinja2's autoescape;
charts come from :mod:`workbench.core.charts`, every label escaped.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import __version__
from ..core.output import fmt

TEMPLATES = Path(__file__).parent / "templates"


def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = fmt
    return env


def render(template: str, **context) -> str:
    """Render ``templates/<template>`` with ``context`` (autoescaped)."""
    return _env().get_template(template).render(version=__version__, **context)


def write_report(project, html_text: str, out: str | os.PathLike | None, *, kind: str,
                 title: str, signature_text: str, run_id: int | None = None) -> Path:
    """Write a report (default under ``reports/``) and register it in the store."""
    from ..core.store import Store

    if out is None:
        stamp = __import__("datetime").datetime.now().strftime("%Y%m%d-%H%M%S")
        out = project.reports_dir / f"{kind}-{run_id or 'x'}-{stamp}.html"
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html_text, encoding="utf-8")
    os.replace(tmp, path)
    Store.for_project(project).add_report(kind=kind, title=title, path=str(path.resolve()),
                                          signature=signature_text, run_id=run_id)
    return path


# ------------------------------------------------------------------------------- charts


