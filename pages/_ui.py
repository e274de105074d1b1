"""Shared page helpers: the project, the store, cached reads. Streamlit lives here,
never in ``workbench/``."""

from __future__ import annotations

import streamlit as st

from workbench.core.errors import WorkbenchError
from workbench.core.project import find_project
from workbench.core.store import Store
from workbench.models import trained_run_id


def _ensure_app_navigation() -> None:
    """Always run pages through app.py's ``st.navigation``.

    Streamlit still treats a ``pages/`` folder beside the entry script as a v1 multipage
    app until some run calls ``st.navigation``: a deep link opened first on a fresh server
    (``/review``) would run that page file alone with a file-named sidebar. Turn the v1
    mode off and rerun, so app.py handles the URL.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_ensure_app_navigation()


def project():
    """The project the app serves (``$WORKBENCH_PROJECT`` or the current folder)."""
    try:
        return find_project()
    except WorkbenchError as exc:
        st.error(str(exc))
        st.stop()


def store() -> Store:
    return Store.for_project(project())


def header(title: str, purpose: str) -> None:
    """Every page starts with its title and one line saying what it is for."""
    st.title(title)
    st.caption(purpose)


def dataset_refs() -> list[str]:
    """Stored datasets as NAME@VERSION, newest first."""
    return [v.ref for v in store().list_datasets()]


def pick_dataset(label: str = "Dataset", key: str = "dataset") -> str | None:
    refs = dataset_refs()
    if not refs:
        st.info("No datasets yet. Import one on the **Home** page first.")
        st.page_link("pages/home.py", label="Go to Home", icon=":material/home:")
        return None
    return st.selectbox(label, refs, key=key)


def model_choices() -> dict[str, str]:
    """Models that can generate text: spec -> "spec · description" (fine-tuned runs first,
    since after training they are the ones to evaluate and probe)."""
    from workbench.models import list_models

    infos = [m for m in list_models(project())
             if not (m.kind == "packaged" and "minilm" in m.spec) and (m.kind != "trained" or m.prepared)]
    infos.sort(key=lambda m: m.kind != "trained")
    return {m.spec: f"{m.spec} · {m.description}" for m in infos}


def base_and_tuned(runs, same=lambda r: r.config.get("data")) -> tuple[int, int]:
    """Default positions of (A, B) in ``runs`` (newest first) for a before/after view: B is
    the newest run of a fine-tuned ``run:ID`` model, A the newest run of its base model
    (else of any other model) with the same ``same(run)``; otherwise the two newest."""
    for r in runs:
        model = str(r.config.get("model") or "")
        if trained_run_id(model) is None:
            continue
        try:
            base = store().get_run(trained_run_id(model)).config.get("model")
        except WorkbenchError:
            base = None
        peers = [o for o in runs if o.id != r.id and o.kind == r.kind and same(o) == same(r)
                 and o.config.get("model") != model]
        pick = next((o for o in peers if o.config.get("model") == base),
                    peers[0] if peers else None)
        if pick is not None:
            return runs.index(pick), runs.index(r)
    return min(1, len(runs) - 1), 0


def interval_chart(frame: pd.DataFrame, *, title: str, overall: float | None = None) -> None:
    """Points with 95% interval bars, one row per label; a rule marks ``overall``."""
    import altair as alt
    import pandas as pd

    if frame.empty:
        return
    y = alt.Y("label:N", title=None, sort=None)
    tips = [c for c in frame.columns if c != "label"]
    bars = alt.Chart(frame).mark_rule(strokeWidth=2).encode(
        y, alt.X("low:Q", title=title), alt.X2("high:Q"), tooltip=["label", *tips])
    dots = alt.Chart(frame).mark_point(filled=True, size=60).encode(
        y, alt.X("value:Q"), tooltip=["label", *tips])
    layers = [bars, dots]
    if overall is not None:
        layers.append(alt.Chart(pd.DataFrame({"x": [overall]})).mark_rule(
            strokeDash=[4, 4], color="gray").encode(x="x:Q"))
    st.altair_chart(alt.layer(*layers).properties(height=36 * len(frame) + 70), width="stretch")


@st.cache_resource
def _model_jobs() -> dict:
    """Background model jobs (evaluations, model probes) of this server process."""
    return {}


def start_model_job(work, *, label: str) -> str:
    """Run ``work(state)`` in a background thread so the page stays usable; returns the job
    id. Jobs run one after another (``exclusive_model_use``): transformers is not
    thread-safe while it imports lazily. ``work`` may update ``state`` (label, done, total)
    and returns the fields to add when it finishes (``run_id``...)."""
    import threading
    import time

    job_id = f"{time.time():.6f}"
    state = _model_jobs()[job_id] = {
        "label": f"{label} (waiting for another model job)", "done": 0, "total": 0,
        "status": "running", "error": None, "run_id": None}

    def run() -> None:
        from workbench.models import exclusive_model_use

        try:
            with exclusive_model_use():
                state["label"] = label
                state.update(work(state), status="finished")
        except WorkbenchError as exc:
            state.update(status="failed", error=str(exc))
        except Exception as exc:  # noqa: BLE001 - shown to the user; the run is stored failed
            state.update(status="failed", error=f"{type(exc).__name__}: {exc}")

    threading.Thread(target=run, daemon=True, name=f"model-job-{job_id}").start()
    return job_id


def model_job_status(session_key: str, *, unit: str = "") -> dict | None:
    """Show the session's job: a progress bar while it runs, its error if it failed.
    Returns the job's state once it has finished (the caller says what it made)."""
    job = _model_jobs().get(st.session_state.get(session_key, ""))
    if not job:
        return None
    if job["status"] == "running":
        frac = min(1.0, job["done"] / job["total"]) if job["total"] else 0.0
        st.progress(frac, text=f"{job['label']}: {job['done']}/{job['total'] or '?'}{unit}")
    elif job["status"] == "failed":
        st.error(job["error"])
    else:
        return job
    return None


def run_errors(fn, *args, **kwargs):
    """Call ``fn``; show a WorkbenchError as ``st.error`` and return None."""
    try:
        return fn(*args, **kwargs)
    except WorkbenchError as exc:
        st.error(str(exc))
        return None


def placeholder(next_step: str) -> None:
    st.info(f"Coming in a later release: {next_step}")
