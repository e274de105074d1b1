"""Self-contained HTML reports: Jinja2 with autoescape, inline CSS, inline SVG charts.

No external URL ever appears in a report, so it opens offline and can be handed to a
reviewer as one file. Every value from data or a model is escaped by Jinja2's autoescape;
charts come from :mod:`workbench.core.charts`, every label escaped.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import __version__
from ..core.output import fmt, fmt_p

TEMPLATES = Path(__file__).parent / "templates"


def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = fmt
    env.filters["pvalue"] = fmt_p  # every p-value in every report: "< 0.001" below the floor
    return env


def render(template: str, **context) -> str:
    """Render ``templates/<template>`` with ``context`` (autoescaped)."""
    return _env().get_template(template).render(version=__version__, **context)


def _run_label(run) -> str:
    text = str(run)
    bare = text.removeprefix("run:")
    if bare.isdigit():
        return f"run{int(bare)}"
    stem = Path(text).stem or "file"
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:40]


def report_path(project, kind: str, *, run_id: int | None = None,
                runs: tuple | None = None) -> Path:
    """Where a report goes by default, under the project's ``reports/``.

    A comparison names both runs (``compare-run12-vs-run15.html``; a second report of
    the same pair gets ``-2``); any other report its run and the time
    (``check-7-20261202-081500.html``).
    """
    if runs is not None and all(r is not None for r in runs):
        base = f"{kind}-{_run_label(runs[0])}-vs-{_run_label(runs[1])}"
        path, n = project.reports_dir / f"{base}.html", 1
        while path.exists():
            n += 1
            path = project.reports_dir / f"{base}-{n}.html"
        return path
    stamp = __import__("datetime").datetime.now().strftime("%Y%m%d-%H%M%S")
    return project.reports_dir / f"{kind}-{run_id or 'x'}-{stamp}.html"


def write_report(project, html_text: str, out: str | os.PathLike | None, *, kind: str,
                 title: str, signature_text: str, run_id: int | None = None,
                 runs: tuple | None = None) -> Path:
    """Write a report (default under ``reports/``) and register it in the store.

    ``runs`` (A, B) names the two runs of a comparison in the default file name.
    """
    from ..core.store import Store

    if out is None:
        out = report_path(project, kind, run_id=run_id, runs=runs)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html_text, encoding="utf-8")
    os.replace(tmp, path)
    Store.for_project(project).add_report(kind=kind, title=title, path=str(path.resolve()),
                                          signature=signature_text, run_id=run_id)
    return path


# ------------------------------------------------------------------------------- charts


