"""Evaluate: run a model on a split in the background; read metrics with intervals,
slices, worst examples; compare two evaluations (base vs fine-tuned) side by side."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages._ui import (
    base_and_tuned,
    dataset_refs,
    header,
    interval_chart,
    model_choices,
    model_job_status,
    project,
    run_errors,
    start_model_job,
    store,
)

header("Evaluate", "Score a model on a split: accuracy, BLEU and ROUGE with confidence intervals.")
P = project()


def _start(**kwargs) -> str:
    """Evaluate a model in the background; the report goes to the store's Reports."""
    def work(state: dict) -> dict:
        from workbench.evaluation import evaluate_model
        from workbench.reports import write_html

        def progress(done: int, total: int) -> None:
            state["done"], state["total"] = done, total

        rep = evaluate_model(P, progress=progress, **kwargs)
        return {"run_id": rep.run_id, "report": str(write_html(P, rep))}

    return start_model_job(work, label=f"{kwargs['model']} on {kwargs['data']}")


def _data_choices() -> list[str]:
    from workbench.splits import list_splits

    splits = [f"split:{r.id}:{part}" for r in list_splits(P)
              for part in ("test", "validation") if part in r.outputs.get("manifest", {})
              .get("counts", {"test": 1})]
    return splits + dataset_refs()


@st.cache_data(show_spinner=False)
def _columns(ref: str) -> list[str]:
    from workbench.evaluation import load_eval_data

    frame, *_ = load_eval_data(P, ref)
    return [str(c) for c in frame.columns]


@st.cache_data(show_spinner=False)
def _report(run_id: int):
    from workbench.evaluation import report_from_run

    return report_from_run(P, run_id)


def _metrics_frame(metrics: dict, ci: dict) -> pd.DataFrame:
    return pd.DataFrame([{"metric": m, "value": v, "95% low": ci.get(m, [None, None])[0],
                          "95% high": ci.get(m, [None, None])[1]} for m, v in metrics.items()])


# ----------------------------------------------------------------------------- run
st.subheader("Run an evaluation")
models, datas = model_choices(), _data_choices()
if not datas:
    st.info("No data to evaluate on yet: import a dataset on **Home**, then make a split on "
            "**Splits** (or score a predictions file below).")
else:
    with st.form("run_eval"):
        c1, c2 = st.columns(2)
        model = c1.selectbox("Model", list(models), key="eval_model", format_func=models.get,
                             help="A fine-tuned run:ID, a base model, or the tiny test model.")
        data = c2.selectbox("Data", datas, key="eval_data",
                            help="A split part (split:ID:PART) or a stored dataset.")
        cols = run_errors(_columns, data) or []
        c1, c2, c3 = st.columns(3)
        prompt_col = c1.selectbox("Prompt column", cols, key="eval_prompt",
                                  index=cols.index("question") if "question" in cols else 0)
        ref_col = c2.selectbox("Reference column", cols, key="eval_ref",
                               index=cols.index("answer") if "answer" in cols else 0)
        metrics = c3.multiselect("Metrics", ["accuracy", "bleu", "rouge"],
                                 default=["accuracy", "bleu", "rouge"], key="eval_metrics")
        slices = st.multiselect("Slice by", [c for c in cols if c not in (prompt_col, ref_col)],
                                key="eval_slices")
        c1, c2, c3 = st.columns(3)
        max_new = c1.number_input("New tokens", 1, 512, 48, key="eval_max_new")
        chat = c2.checkbox("Use the chat template", value=True, key="eval_chat",
                           help="Ask each prompt as a user turn, as instruct models (and the "
                                "demo's fine-tuned runs) expect. Off for plain models such as "
                                "tiny:gpt2.")
        template = c3.text_input("Prompt template (optional)", key="eval_template",
                                 placeholder="Q: {question}\\nA:")
        go = st.form_submit_button("Evaluate", type="primary")
    if go:
        from workbench.generation import GenerationSettings

        st.session_state["eval_job"] = _start(
            model=model, data=data, metrics=metrics or None, prompt_col=prompt_col,
            reference_col=ref_col, slices=slices, template=template or None,
            settings=GenerationSettings(max_new_tokens=int(max_new), chat=chat))


@st.fragment(run_every=1.0)
def _job_status() -> None:
    job = model_job_status("eval_job", unit=" prompts")
    if job:
        st.success(f"Evaluation finished: run {job['run_id']} ({job['label']}); its report is "
                   f"on the **Reports** page ({job['report']}).")
        if st.session_state.get("eval_shown") != job["run_id"]:
            st.session_state["eval_shown"] = job["run_id"]
            st.session_state["eval_select"] = job["run_id"]  # show it under Results
            st.rerun()


_job_status()

# ----------------------------------------------------------------------------- results
st.subheader("Results")
runs = store().list_runs("evaluate", status="succeeded", limit=100)
if not runs:
    st.info("No evaluations yet. Run one above, or from the command line: "
            "`workbench evaluate --model tiny:gpt2 --data split:ID` or "
            "`workbench evaluate --predictions FILE`.")
    st.stop()
labels = {r.id: f"run {r.id}: {r.name}" for r in runs}
if st.session_state.get("eval_select") in labels:  # a finished job: show its run
    st.session_state["eval_run"] = st.session_state.pop("eval_select")
run_id = st.selectbox("Evaluation", list(labels), format_func=labels.get, key="eval_run")
rep = run_errors(_report, run_id)
if rep is not None:
    st.dataframe(_metrics_frame(rep.metrics, rep.ci), hide_index=True)
    st.code(rep.signature, language=None, wrap_lines=True)
    from workbench.evaluation import MIN_SLICE

    small = [w for w in rep.warnings if w.startswith("slice ") and "too few" in w]
    for w in rep.warnings:
        if w not in small:
            st.warning(w)
    if small:
        st.warning(f"{len(small)} slices have fewer than {MIN_SLICE} examples: too few to say "
                   "anything about them alone; read their intervals, not their values.")
    if rep.slices:
        st.markdown("**Slices** (95% bootstrap intervals)")
        key = next((m for m in ("rougeL", "accuracy", "bleu") if m in rep.metrics),
                   next(iter(rep.metrics)))
        interval_chart(pd.DataFrame([
            {"label": k, "value": s["metrics"][key], "low": rep.slice_ci[k][key][0],
             "high": rep.slice_ci[k][key][1], "n": s["n"]}
            for k, s in rep.slices.items() if key in rep.slice_ci.get(k, {})]),
            title=f"{key} per slice", overall=rep.metrics[key])
        st.dataframe(pd.DataFrame([{"slice": k, "n": s["n"], **s["metrics"]}
                                   for k, s in rep.slices.items()]), hide_index=True)
    worst = rep.worst()
    if worst:
        st.markdown("**Worst examples**")
        st.dataframe(pd.DataFrame(worst).drop(columns=["_bleu_stats"], errors="ignore"),
                     hide_index=True)
    from workbench.reports import render_html

    st.download_button("Download HTML report", render_html(rep), file_name=f"evaluate-{run_id}.html",
                       mime="text/html", key="eval_download")

# ----------------------------------------------------------------------------- compare
st.subheader("Compare two evaluations (base vs fine-tuned)")
if len(runs) < 2:
    st.info("Run a second evaluation on the same data (for example the fine-tuned model) to "
            "compare them here.")
    st.stop()

ia, ib = base_and_tuned(runs)
c1, c2 = st.columns(2)
a = c1.selectbox("A (base)", list(labels), index=ia, format_func=labels.get, key="cmp_a")
b = c2.selectbox("B (fine-tuned)", list(labels), index=ib, format_func=labels.get, key="cmp_b")
if st.button("Compare", key="cmp_go"):
    from workbench.evaluation import compare
    from workbench.reports import write_compare_html

    cmp = run_errors(compare, P, str(a), str(b))
    st.session_state["cmp_result"] = cmp
    st.session_state["cmp_report"] = str(write_compare_html(P, cmp)) if cmp else None
cmp = st.session_state.get("cmp_result")
if cmp is not None:
    st.caption(f"A = {cmp.a}; B = {cmp.b}; {cmp.n} paired examples; report "
               f"{st.session_state.get('cmp_report')} (on the **Reports** page)")
    st.dataframe(pd.DataFrame([{"metric": m, "A": d["a"], "B": d["b"], "B - A": d["diff"],
                                "95% low": d["ci"][0], "95% high": d["ci"][1],
                                "p-value": d["p_value"],
                                "verdict": "B better" if d["ci"][0] > 0 else
                                "B worse" if d["ci"][1] < 0 else "no clear change"}
                               for m, d in cmp.differences.items()]), hide_index=True)
    for w in cmp.warnings:
        st.warning(w)
    if cmp.verdicts:
        hv = cmp.verdicts
        st.info(f"Human review: {hv['items']} items by {', '.join(hv['reviewers'])}: "
                + ", ".join(f"{hv['labels'][k]} {n}" for k, n in hv["counts"].items())
                + " (in the report too; record more on the **Review** page).")
    st.caption("B - A per metric with its 95% paired bootstrap interval: an interval clear of "
               "zero is a change; BLEU is in points (0-100), the others in 0-1 units.")
    for group in (["bleu"], [m for m in cmp.differences if m != "bleu"]):
        rows = [{"label": m, "value": cmp.differences[m]["diff"],
                 "low": cmp.differences[m]["ci"][0], "high": cmp.differences[m]["ci"][1]}
                for m in group if m in cmp.differences]
        if rows:
            interval_chart(pd.DataFrame(rows), title="B - A", overall=0.0)
    if cmp.changed:
        st.markdown(f"**Side by side: examples that changed most ({cmp.key})**")
        st.dataframe(pd.DataFrame(cmp.changed), hide_index=True)
