import pandas as pd
import streamlit as st

from pages._ui import base_and_tuned, header, project, run_errors, store
from workbench import review

header("Review", "Compare two models' outputs side by side, record verdicts, and count them.")
proj = project()
runs = review.reviewable_runs(proj)
if not runs:
    st.info("Nothing to review yet. Evaluate a model on the **Evaluate** page or probe it on the "
            "**Bias probes** page; each run keeps its outputs, and two runs over the same "
            "examples (base vs fine-tuned) can be reviewed here.")
    st.page_link("pages/evaluate.py", label="Go to Evaluate", icon=":material/analytics:")
    st.stop()

labels = {r.id: f"#{r.id} {r.kind} · {r.name or ''} · {r.started:%Y-%m-%d %H:%M}" for r in runs}
if "reviewer" not in st.session_state:  # keep the name across reloads via the URL
    st.session_state["reviewer"] = st.query_params.get("reviewer", "")
reviewer = st.text_input("Your name (stored with each verdict)", key="reviewer")
if reviewer.strip():
    st.query_params["reviewer"] = reviewer.strip()
mode = st.radio("Compare", ["Two runs", "Two groups in one probe run"], horizontal=True,
                key="mode")

if mode == "Two runs":
    ids = [r.id for r in runs]
    ia, ib = base_and_tuned(runs, same=lambda r: r.config.get("data")
                            or (r.config.get("probe_set") or {}).get("name"))
    c1, c2 = st.columns(2)
    run_a = c1.selectbox("A (e.g. base)", ids, index=ia, format_func=labels.get, key="run_a")
    run_b = c2.selectbox("B (e.g. fine-tuned)", ids, index=ib, format_func=labels.get,
                         key="run_b")
    pairs = run_errors(review.pair_runs, proj, run_a, run_b) if run_a != run_b else None
    if run_a == run_b:
        st.warning("Pick two different runs.")
    key_a, key_b = run_a, run_b
else:
    probe_runs = [r.id for r in runs if r.kind == "probe"]
    if not probe_runs:
        st.info("No probe runs yet: run one on the **Bias probes** page.")
        st.stop()
    run = st.selectbox("Probe run", probe_runs, format_func=labels.get, key="probe_run")
    frame = run_errors(review.load_examples, store().get_run(run))
    groups = sorted(frame["group"].astype(str).unique()) if frame is not None and \
        "group" in frame else []
    if len(groups) < 2:
        st.warning("This run has fewer than two groups.")
        st.stop()
    c1, c2 = st.columns(2)
    ga = c1.selectbox("Group A", groups, index=0, key="group_a")
    gb = c2.selectbox("Group B", groups, index=1, key="group_b")
    pairs = run_errors(review.counterfactual_pairs, proj, run, ga, gb) if ga != gb else None
    key_a, key_b = run, -run  # one probe run: store its group comparison under (run, -run)

if pairs is None or pairs.empty:
    st.stop()

table = review.verdicts(proj, key_a, key_b)
mine = dict(zip(table.loc[table["reviewer"] == reviewer.strip(), "item"],
                table.loc[table["reviewer"] == reviewer.strip(), "verdict"]))
with st.expander("Filters", expanded=True):
    c1, c2 = st.columns(2)
    only_diff = c1.checkbox("Only items whose outputs differ", value=True, key="only_diff")
    todo = c2.checkbox("Only items I have not reviewed", key="only_todo",
                       disabled=not reviewer.strip())
    view = pairs[pairs["changed"]] if only_diff else pairs
    if todo and reviewer.strip():
        view = view[~view["id"].astype(str).isin(mine)]
    cat_cols = [c for c in ("template", "group", "context") if c in view.columns] + \
        [c for c in view.columns if c not in ("id", "prompt", "reference", "text_a", "text_b",
                                               "template", "group", "context", "changed")
         and not str(c).startswith("_") and view[c].dtype == object][:3]
    for col in cat_cols[:3]:
        values = sorted(view[col].dropna().astype(str).unique())
        if 1 < len(values) <= 200:
            chosen = st.multiselect(f"{col}", values, key=f"filter_{col}")
            if chosen:
                view = view[view[col].astype(str).isin(chosen)]
    # the score that moved on the most items first (accuracy is all zeros on free text)
    change_cols = sorted((c for c in view.columns if c.endswith("_change")),
                         key=lambda c: -int((view[c].fillna(0) != 0).sum()))
    if change_cols:
        cc = st.selectbox("Score change", change_cols, key="change_col")
        top = float(view[cc].abs().max()) if len(view) else 0.0
        if top > 0:
            thr = st.slider(f"|{cc}| at least", 0.0, top, 0.0, key="change_thr")
            view = view[view[cc].abs() >= thr]
            view = view.reindex(view[cc].abs().sort_values(ascending=False).index)

st.caption(f"{len(view)} of {len(pairs)} items match the filters.")
if view.empty:
    st.info("No items match: loosen the filters.")
else:
    view = view.reset_index(drop=True)
    nxt = st.session_state.pop("next_item", None)  # after a verdict: the next item
    if nxt is not None:
        st.session_state["item_pos"] = min(max(1, nxt), len(view))
    elif st.session_state.get("item_pos", 1) > len(view):
        st.session_state["item_pos"] = len(view)
    pos = st.number_input(f"Item (of {len(view)})", min_value=1, max_value=len(view), value=1,
                          step=1, key="item_pos") - 1
    item = view.iloc[int(pos)]
    if "prompt" in item and isinstance(item.get("prompt"), str):
        st.markdown("**Prompt**")
        st.text(item["prompt"])
    if isinstance(item.get("reference"), str):
        st.markdown("**Reference**")
        st.text(item["reference"])
    left, right = st.columns(2)
    da, db = review.word_diff_html(item["text_a"], item["text_b"])
    left.markdown("**A**")
    style = ("<style>del{background:#ffebe9}ins{background:#dafbe1;text-decoration:none}"
             "</style>")
    left.html(f'{style}<div style="white-space:pre-wrap;font-family:monospace">{da}</div>')
    right.markdown("**B**")
    right.html(f'{style}<div style="white-space:pre-wrap;font-family:monospace">{db}</div>')
    note = st.text_input("Note (optional)", key=f"verdict_note_{item['id']}")
    current = mine.get(str(item["id"]))
    if current:
        st.caption(f"Your verdict on this item: **{review.VERDICTS[current]}** (a new one "
                   "replaces it).")
    st.caption("Keys 1-4 record a verdict when the focus is not in a text box (press Esc or "
               "click the page first); the next item follows.")
    cols = st.columns(4)
    shortcuts = {"a_better": "1", "b_better": "2", "tie": "3", "flag": "4"}
    for col, (code, label) in zip(cols, review.VERDICTS.items()):
        if col.button(label, key=f"verdict_{code}", shortcut=shortcuts[code], width="stretch",
                      type="primary" if code == current else "secondary"):
            ok = run_errors(review.record_verdict, proj, run_a=key_a, run_b=key_b,
                            item=str(item["id"]), verdict=code, reviewer=reviewer, note=note)
            if ok is None and reviewer.strip():
                st.session_state["recorded"] = (f"Recorded '{label}' on item {item['id']} as "
                                                f"{reviewer.strip()}.")
                # the next item; with "not reviewed yet" on, this one drops out of the list
                st.session_state["next_item"] = int(pos) + (1 if todo else 2)
                st.rerun()
    if "recorded" in st.session_state:
        st.success(st.session_state.pop("recorded"))

st.subheader("Verdicts")
summary = review.summarize(proj, key_a, key_b)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Items reviewed", summary.items)
c2.metric("Reviewers", len(summary.reviewers))
c3.metric("Agreement", "—" if summary.agreement is None else f"{summary.agreement:.0%}")
c4.metric("Cohen's kappa", "—" if summary.kappa is None else f"{summary.kappa:.2f}")
if summary.items:
    import altair as alt

    counts = pd.DataFrame({"verdict": [review.VERDICTS[k] for k in review.VERDICTS],
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
