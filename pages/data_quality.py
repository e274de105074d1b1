import pandas as pd
import streamlit as st

from pages._ui import header, pick_dataset, project, run_errors, store
from workbench.checks import check_dataset, check_history, list_suites, load_suite
from workbench.clean import clean_dataset

header("Data quality", "Run Great Expectations check suites on a dataset, clean it into a new version, and follow the trend.")
proj = project()

# After a clean, show the new version (set before the selectbox exists, as Streamlit needs).
if "select_dataset" in st.session_state:
    st.session_state["dataset"] = st.session_state.pop("select_dataset")
ref = pick_dataset()
suites = list_suites(proj)
if ref is None:
    st.stop()
if not suites:
    st.info("No check suites yet. Add one as `checks/NAME.yaml`: a list of Great Expectations "
            "expectations (`type: expect_column_values_to_not_be_null`, `column: answer`); "
            "see `checks/support_qa.yaml` in the demo project.")
    st.stop()
suite_path = st.selectbox("Suite", suites, format_func=lambda p: p.name, key="suite")
name = ref.split("@")[0]


def _examples_frame(examples: list) -> pd.DataFrame:
    rows = [{k: (v if isinstance(v, (str, int, float)) or v is None else str(v))
             for k, v in (e.items() if isinstance(e, dict) else {"value": e}.items())}
            for e in examples]
    return pd.DataFrame(rows).astype(str)


if st.button("Run checks", key="run_checks", type="primary"):
    bar = st.progress(0.0, text="starting")
    result = run_errors(check_dataset, proj, ref, suite_path,
                        progress=lambda f, msg: bar.progress(min(max(f, 0.0), 1.0), text=msg))
    bar.empty()
    if result:
        from workbench.reports import write_check_html

        st.session_state["last_check_run"] = result[1]
        docs = proj.state / "data_docs" / "index.html"
        write_check_html(proj, result[0], None, run_id=result[1],  # listed on Reports
                         data_docs=str(docs) if docs.is_file() else None)

# Results always come from the store, so a refresh loses nothing.
suite_name = run_errors(lambda: load_suite(suite_path, check_types=False).name)
history = [h for h in check_history(proj, suite=suite_name) if h.dataset == ref] if suite_name else []
st.subheader("Latest result")
if not history:
    st.caption(f"No checks of {ref} with this suite yet: press **Run checks**.")
else:
    latest = history[0]
    run = store().get_run(latest.run_id)
    result = run.outputs.get("result") or {}
    if latest.success is None:
        st.error(f"Run {latest.run_id} failed: {latest.error}")
    elif latest.success:
        st.success(f"PASSED: all {len(result['results'])} rules (run {latest.run_id}, "
                   f"{latest.started:%Y-%m-%d %H:%M} UTC)")
    else:
        st.error(f"FAILED: {len(latest.failed_rules)} of {len(result['results'])} rules "
                 f"(run {latest.run_id}, {latest.started:%Y-%m-%d %H:%M} UTC)")
    for i, r in enumerate(result.get("results", []), 1):
        label = f"{i}. {r['expectation']}" + (f" ({r['column']})" if r["column"] else "") + \
            f": {r['unexpected_count']} unexpected ({r['unexpected_percent']:.2f}%)"
        icon = ":material/check_circle:" if r["success"] else ":material/cancel:"
        with st.expander(label, expanded=not r["success"], icon=icon):
            if r["examples"]:
                st.dataframe(_examples_frame(r["examples"]), hide_index=True, width="stretch")
            else:
                st.caption("No failing examples.")

st.subheader("Clean into a new version")
spec = run_errors(load_suite, suite_path, check_types=False, require_expectations=False)
if spec is not None and not spec.clean:
    st.caption("This suite has no `clean:` rules.")
elif spec is not None:
    st.caption("Rules: " + ", ".join(s.type for s in spec.clean))
    if st.button("Clean", key="clean"):
        with st.spinner("cleaning"):
            report = run_errors(clean_dataset, proj, ref, suite_path)
        if report:
            st.session_state["select_dataset"] = report.result
            st.session_state["cleaned_note"] = (
                f"Cleaned {ref}: {report.rows_before} → {report.rows_after} rows, stored as "
                f"{report.result}" + ("" if report.created else
                                      " (identical content was already stored)")
                + ". It is selected above: press **Run checks** to prove it is clean.")
            st.rerun()
    if "cleaned_note" in st.session_state:
        st.success(st.session_state.pop("cleaned_note"))
    cleans = [r for r in store().list_runs("clean", status="succeeded")
              if ref in (r.outputs.get("parent"), r.outputs.get("result"))]
    if cleans:
        out = cleans[0].outputs
        c1, c2 = st.columns(2)
        c1.metric("Rows before", out["rows_before"])
        c2.metric("Rows after", out["rows_after"], delta=out["rows_after"] - out["rows_before"])
        st.text(f"Last clean: {out['parent']} → {out['result']} (run {cleans[0].id})")
        st.dataframe(pd.DataFrame([{"#": s["index"], "rule": s["type"],
                                    "removed": s["rows_removed"], "changed": s["rows_changed"],
                                    "example rows": ", ".join(str(e.get("row")) for e in s["examples"][:5])}
                                   for s in out["steps"]]), hide_index=True, width="stretch")

st.subheader("Trend")
runs = [h for h in (check_history(proj, suite=suite_name) if suite_name else [])
        if h.success is not None and (h.dataset or "").split("@")[0] == name]
if len(runs) < 1:
    st.caption("The pass/fail trend appears after the first check of this dataset.")
else:
    import altair as alt

    runs = runs[::-1]
    st.caption(f"{len(runs)} checks of {name} (all versions) with suite {suite_name}: one point "
               "per check, oldest first; hover for the version and time.")
    overall = pd.DataFrame({"check": [h.run_id for h in runs],
                            "version": [h.dataset.split("@")[-1] for h in runs],
                            "started (UTC)": [f"{h.started:%Y-%m-%d %H:%M:%S}" for h in runs],
                            "rules failed": [len(h.failed_rules) for h in runs]})
    x = alt.X("check:O", title="check (run id)")
    tips = ["check", "version", "started (UTC)", "rules failed"]
    st.altair_chart(alt.Chart(overall).mark_line(point=True).encode(
        x, alt.Y("rules failed:Q", title="rules failed"), tooltip=tips).properties(height=180),
        width="stretch")
    per_rule = pd.DataFrame([{"check": h.run_id, "version": h.dataset.split("@")[-1],
                              "rule": f"{i + 1:02d}. {r['expectation']}"
                                      + (f" ({r['column']})" if r["column"] else ""),
                              "unexpected %": r["unexpected_percent"]}
                             for h in runs for i, r in enumerate(h.results)])
    st.altair_chart(alt.Chart(per_rule).mark_line(point=True).encode(
        x, alt.Y("unexpected %:Q"), alt.Color("rule:N", legend=alt.Legend(orient="bottom",
                                                                          columns=2, labelLimit=400)),
        tooltip=["check", "version", "rule", "unexpected %"]).properties(height=300),
        width="stretch")
