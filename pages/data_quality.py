import pandas as pd
import streamlit as st

from pages._ui import (check_trend_charts, esc, header, note, pick_dataset, project, run_errors,
                       show_check_result, store)
from workbench.checks import (check_dataset, check_history, clean_step_rows, data_docs_of,
                              list_suites, load_suite, trend)
from workbench.clean import clean_dataset, clean_name
from workbench.reports import write_check_html

header("Data quality", "Run Great Expectations check suites on a dataset, clean it into a new "
       "version, and follow the trend.")
proj = project()
if "select_dataset" in st.session_state:  # after a clean: select the new version (before
    st.session_state["dataset"] = st.session_state.pop("select_dataset")  # the selectbox)
if (ref := pick_dataset()) is None:
    st.stop()
if not (suites := list_suites(proj)):
    st.info("No check suites yet. Add one as `checks/NAME.yaml`: a list of Great Expectations "
            "expectations (`type: expect_column_values_to_not_be_null`, `column: answer`); "
            "see `checks/support_qa.yaml` in the demo project.")
    st.stop()
suite_path = st.selectbox("Suite", suites, format_func=lambda p: p.name, key="suite")
spec = run_errors(load_suite, suite_path, check_types=False, require_expectations=False)

docs = st.checkbox("Also build Great Expectations Data Docs", key="data_docs",
                   help="Slower: a Checkpoint and a docs site in the project's state folder.")
if st.button("Run checks", key="run_checks", type="primary"):
    bar = st.progress(0.0, text="starting")
    result = run_errors(check_dataset, proj, ref, suite_path, data_docs=docs,
                        progress=lambda f, msg: bar.progress(min(max(f, 0.0), 1.0), text=esc(msg)))
    bar.empty()
    if result:  # the report links the Data Docs this run built, never an earlier run's
        write_check_html(proj, result[0], None, run_id=result[1],  # listed on Reports
                         data_docs=data_docs_of(store().get_run(result[1]).outputs))

st.subheader("Latest result")  # always from the store, so a refresh loses nothing
history = [h for h in check_history(proj, suite=spec.name)  # a cancelled run has no result
           if h.dataset == ref and h.status != "cancelled"] if spec else []
if not history:
    st.caption(f"No checks of {esc(ref)} with this suite yet: press **Run checks**.")
else:
    show_check_result(history[0], outputs := store().get_run(history[0].run_id).outputs)
    if built := data_docs_of(outputs):
        st.caption(f"Great Expectations Data Docs of run {history[0].run_id}: `{built}`")

st.subheader("Clean into a new version")
if spec is not None and not spec.clean:
    st.caption("This suite has no `clean:` rules.")
elif spec is not None:
    st.caption("Rules: " + esc(", ".join(s.type for s in spec.clean)))
    name = st.text_input("Name of the cleaned dataset", value=clean_name(ref), key=f"clean_{ref}")
    if st.button("Clean", key="clean"):
        with st.spinner("cleaning"):
            report = run_errors(clean_dataset, proj, ref, suite_path, name=name.strip() or None)
        if report:
            st.session_state["select_dataset"] = report.result
            st.session_state["cleaned_note"] = (
                f"Cleaned {ref}: {report.rows_before} → {report.rows_after} rows, stored as "
                f"{report.result}" + ("" if report.created else " (identical content was "
                                      "already stored)") + ". It is selected above: press "
                "Run checks to prove it is clean.")
            st.rerun()
    note("cleaned_note")
    cleans = [r for r in store().list_runs("clean", status="succeeded")
              if ref in (r.outputs.get("parent"), r.outputs.get("result"))]
    if cleans:
        out = cleans[0].outputs
        c1, c2 = st.columns(2)
        c1.metric("Rows before", out["rows_before"])
        c2.metric("Rows after", out["rows_after"], delta=out["rows_after"] - out["rows_before"])
        st.text(f"Last clean: {out['parent']} → {out['result']} (run {cleans[0].id})")
        st.dataframe(pd.DataFrame(clean_step_rows(out["steps"])), hide_index=True, width="stretch")

st.subheader("Trend")
if not (runs := trend(proj, spec.name, ref) if spec else []):
    st.caption("The pass/fail trend appears after the first check of this dataset.")
else:
    st.caption(f"{len(runs)} check{'s' * (len(runs) != 1)} of {esc(ref.split('@')[0])} (all versions, and what it was "
               f"cleaned from) with suite {esc(spec.name)}: one column per check, oldest first.")
    check_trend_charts(runs)
