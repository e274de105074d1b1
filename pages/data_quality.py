import pandas as pd
import streamlit as st

from pages._ui import header, pick_dataset, project, run_errors, store
from workbench.checks import check_dataset, check_history, list_suites, load_suite
from workbench.clean import clean_dataset

header("Data quality", "Run Great Expectations check suites on a dataset, clean it into a new version, and follow the trend.")
proj = project()

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
        st.session_state["last_check_run"] = result[1]

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
        label = f"{'✅' if r['success'] else '❌'} {i}. {r['expectation']}" + \
            (f" ({r['column']})" if r["column"] else "") + \
            f": {r['unexpected_count']} unexpected ({r['unexpected_percent']:.2f}%)"
        with st.expander(label, expanded=not r["success"]):
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
            st.success(f"{report.result}: {report.rows_before} → {report.rows_after} rows"
                       + ("" if report.created else " (identical content was already stored)"))
    cleans = [r for r in store().list_runs("clean", status="succeeded")
              if r.outputs.get("parent") == ref]
    if cleans:
        out = cleans[0].outputs
        c1, c2 = st.columns(2)
        c1.metric("Rows before", out["rows_before"])
        c2.metric("Rows after", out["rows_after"], delta=out["rows_after"] - out["rows_before"])
        st.text(f"Last clean of {ref}: new version {out['result']} (run {cleans[0].id})")
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
    runs = runs[::-1]
    st.caption(f"{len(runs)} checks of {name} (all versions) with suite {suite_name}")
    st.line_chart(pd.DataFrame({"started (UTC)": [h.started for h in runs],
                                "passed": [int(bool(h.success)) for h in runs]}),
                  x="started (UTC)", y="passed", height=180)
    per_rule = pd.DataFrame([{"started (UTC)": h.started,
                              "rule": f"{i + 1}. {r['expectation']}" + (f" ({r['column']})" if r["column"] else ""),
                              "unexpected %": r["unexpected_percent"]}
                             for h in runs for i, r in enumerate(h.results)])
    wide = per_rule.pivot_table(index="started (UTC)", columns="rule", values="unexpected %")
    st.line_chart(wide, height=300, y_label="unexpected %")
