import streamlit as st

from pages._ui import (file_or_path, finish_job, generation_inputs, header, mitigation_tab,
                       model_picker, note, pick_two, probe_set_editor, project, run_errors,
                       show_pending, show_probe_compare, show_probe_result, start_model_job, store)
from workbench.probes import (BENCHMARKS, SCORERS, StatsConfig, compare_runs, list_probe_sets,
                              load_result, probe_run_label, resolve_probes, run_probe)
from workbench.reports import write_compare_report, write_probe_report

header("Bias probes", "Compare a model's outputs across demographic prompt sets, with statistics "
       "that say how sure they are.")
proj = project()
sets, benchmarks = list_probe_sets(proj), [n for b in BENCHMARKS.values() for n in b.names]
runs = store().list_runs("probe", status="succeeded")
labels = {r.id: probe_run_label(r) for r in runs}
NONE = "(none: groups and templates from the file)"


def probe(state: dict | None = None, **kwargs) -> dict:
    """Probe and write the report; a background job's ``state`` follows the progress."""
    progress = None if state is None else lambda t, d, n: state.update(label=t, done=d, total=n)
    res = run_probe(proj, progress=progress, **kwargs,
                    config=StatsConfig.from_project(proj, seed=kwargs["seed"]))
    write_probe_report(proj, res)
    return {"run_id": res.run_id, "note": f"Run #{res.run_id} stored ({res.result['verdict']}); "
                                          f"report at {res.report_path}. See it on Results."}


sets_tab, run_tab, results_tab, compare_tab, mitigation = st.tabs(
    ["Probe sets", "Run a probe", "Results", "Before/after", "Mitigation"])
with sets_tab:
    probe_set_editor(sets, benchmarks)
with run_tab:
    source = st.radio("Outputs from", ["A model", "An outputs file"], horizontal=True, key="source")
    byo = source == "An outputs file"
    probes = st.selectbox("Probe set", [NONE] * byo + [*sets, *benchmarks],
                          key=f"run_probes_{source}")
    scorers = st.multiselect("Scorers (the first is the headline)", list(SCORERS),
                             default=["sentiment"], key="scorers")
    gen, model, outputs = {"samples": 1, "seed": 0, "max_new_tokens": 32, "chat": True}, None, None
    if byo:
        outputs, _ = file_or_path("CSV or JSONL with group, template, output (optional prompt, "
                                  "context)", types=["csv", "jsonl"], key="outputs")
    else:
        model = model_picker(help="Probe the base model and the fine-tuned run:ID, then "
                                  "compare them on the Before/after tab.")
        gen = generation_inputs(gen, keys={**{k: k for k in gen}, "chat": "probe_chat"})
    if st.button("Run probe", type="primary", key="run_probe"):
        plan = None if probes == NONE else run_errors(resolve_probes, proj, probes)
        kwargs = dict(plan=plan, model=model or None, scorers=scorers or None, **gen)
        if byo and outputs is None:
            st.error("Upload an outputs file or type its path.")
        elif not byo and plan is not None:
            st.session_state["probe_job"] = start_model_job(lambda s: probe(s, **kwargs),
                                                            label="starting")
        elif plan is not None or probes == NONE:
            if job := run_errors(probe, outputs=outputs, **kwargs):
                st.session_state.update(probe_pending=job["run_id"], probe_note=job["note"])
                st.rerun()
    note("probe_note")
    finish_job("probe_job", pending_key="probe_pending", note_key="probe_note")
with results_tab:
    if not runs:
        st.info("No probe runs yet. Run one on the **Run a probe** tab: against a model, or "
                "audit outputs you generated elsewhere with an outputs file.")
    else:
        show_pending("result_run", "probe_pending", list(labels))
        rid = st.selectbox("Probe run", list(labels), format_func=labels.get, key="result_run")
        if result := run_errors(load_result, proj, str(rid)):
            show_probe_result(result, report=runs[list(labels).index(rid)].outputs.get("report"))
with compare_tab:
    if len(runs) < 2:
        st.info("Before/after needs two probe runs on the same probe set, for example the base "
                "model and the fine-tuned one (model spec run:ID).")
    elif pair := pick_two(runs, labels, keys=("before_run", "after_run"),
                          captions=("Before (base)", "After (fine-tuned)"),
                          same=lambda r: (r.config.get("probe_set") or {}).get("name")):
        if st.button("Compare", key="compare"):
            b, a = (run_errors(load_result, proj, str(i)) for i in pair)
            cmp = b and a and run_errors(compare_runs, proj, b, a, before_label=f"run {pair[0]}",
                                         after_label=f"run {pair[1]}",
                                         config=StatsConfig.from_project(proj))
            st.session_state["bias_cmp"] = (cmp, write_compare_report(proj, cmp)) if cmp else None
        if st.session_state.get("bias_cmp"):
            show_probe_compare(*st.session_state["bias_cmp"])
mitigation_tab(mitigation, runs, labels)
