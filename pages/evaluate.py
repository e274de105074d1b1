"""Evaluate: run a model on a split in the background; read metrics with intervals,
slices, worst examples; compare two evaluations (base vs fine-tuned) side by side."""

import streamlit as st

from pages._ui import (eval_inputs, finish_job, header, model_picker, note, pick_two, project,
                       run_errors, show_eval_compare, show_eval_report, show_pending,
                       start_model_job, store)
from workbench.evaluation import (check_two_runs, classifier_columns, compare, default_slices,
                                  eval_columns, eval_data_choices, eval_run_label,
                                  evaluate_conversations, evaluate_model, report_from_run)
from workbench.reports import write_compare_html, write_html

header("Evaluate", "Score a model on a split: BLEU and ROUGE (exact-match accuracy when "
       "asked for) with confidence intervals; a classifier: accuracy, macro-F1, its "
       "confusion matrix and fairness.")
P = project()


def evaluate(state: dict, **kwargs) -> dict:
    """Evaluate in the background; the report goes to the store's Reports."""
    run = evaluate_conversations if "messages_col" in kwargs else evaluate_model
    rep = run(P, progress=lambda d, n: state.update(done=d, total=n), **kwargs)
    return {"run_id": rep.run_id, "note": f"Evaluation finished: run {rep.run_id} "
            f"({state['label']}); its report is on the Reports page ({write_html(P, rep)})."}


cached = st.cache_data(show_spinner=False)  # keyed by project root too: ids repeat across projects
columns = cached(lambda root, ref: eval_columns(P, ref))
report = cached(lambda root, run_id: report_from_run(P, run_id))

st.subheader("Run an evaluation")
if not (datas := eval_data_choices(P)):
    st.info("No data to evaluate on yet: import a dataset on **Home**, then make a split on "
            "**Splits** (or score a predictions file from the command line).")
else:
    c1, c2 = st.columns(2)
    with c1:
        model = model_picker(key="eval_model", help="A fine-tuned run:ID or a base model.")
    data = c2.selectbox("Data", datas, key="eval_data", help="A split part or a stored dataset.")
    cols, chats = run_errors(columns, str(P.root), data) or ([], [])
    with st.form("run_eval"):
        kwargs = eval_inputs(cols, classifier_columns(P, model), chats=chats, data=data,
                             slices=default_slices(P, data, cols))
        go = st.form_submit_button("Evaluate", type="primary")
    if go:
        st.session_state["eval_job"] = start_model_job(
            lambda s: evaluate(s, model=model, data=data, **kwargs), label=f"{model} on {data}")
note("eval_note")
finish_job("eval_job", pending_key="eval_select", note_key="eval_note", unit=" prompts")

st.subheader("Results")
if not (runs := store().list_runs("evaluate", status="succeeded", limit=100)):
    st.info("No evaluations yet. Run one above, or from the command line: "
            "`workbench evaluate --model tiny:gpt2 --data split:ID` or "
            "`workbench evaluate --predictions FILE`.")
    st.stop()
labels = {r.id: eval_run_label(r) for r in runs}
show_pending("eval_run", "eval_select", list(labels))
run_id = st.selectbox("Evaluation", list(labels), format_func=labels.get, key="eval_run")
if (rep := run_errors(report, str(P.root), run_id)) is not None:
    show_eval_report(rep)

st.subheader("Compare two evaluations (base vs fine-tuned)")
if len(runs) < 2:
    st.info("Run a second evaluation on the same data (for example the fine-tuned model) to "
            "compare them here.")
    st.stop()
pair = pick_two(runs, labels, same=lambda r: r.config.get("data"), keys=("cmp_a", "cmp_b"))
if pair and st.button("Compare", key="cmp_go"):
    cmp = run_errors(lambda: check_two_runs(*pair) or compare(P, *map(str, pair)))
    st.session_state["cmp_result"] = (cmp, write_compare_html(P, cmp)) if cmp else None
if pair and st.session_state.get("cmp_result"):
    show_eval_compare(*st.session_state["cmp_result"])
