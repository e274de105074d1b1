import streamlit as st

from pages._ui import (esc, header, item_picker, note, pick_two, project, run_errors,
                       show_review_item, store, verdict_summary)
from workbench import review

header("Review", "Compare two models' outputs side by side, record verdicts, and count them.")
proj = project()
if not (runs := review.reviewable_runs(proj)):
    st.info("Nothing to review yet. Evaluate a model on the **Evaluate** page or probe it on the "
            "**Bias probes** page; each run keeps its outputs, and two runs over the same "
            "examples (base vs fine-tuned) can be reviewed here.")
    st.page_link("pages/evaluate.py", label="Go to Evaluate", icon=":material/analytics:")
    st.stop()
labels = {r.id: review.review_run_label(r) for r in runs}
if "reviewer" not in st.session_state:  # keep the name across reloads via the URL
    st.session_state["reviewer"] = st.query_params.get("reviewer", "")
if reviewer := st.text_input("Your name (stored with each verdict)", key="reviewer").strip():
    st.query_params["reviewer"] = reviewer
pairs = None
if st.radio("Compare", ["Two runs", "Two groups in one probe run"], horizontal=True,
            key="mode") == "Two runs":
    if pair := pick_two(runs, labels, same=review.same_data, keys=("run_a", "run_b"),
                        captions=("A (e.g. base)", "B (e.g. fine-tuned)")):
        pairs, (key_a, key_b) = run_errors(review.pair_runs, proj, *pair), pair
elif probe_runs := [r.id for r in runs if r.kind == "probe"]:
    run = st.selectbox("Probe run", probe_runs, format_func=labels.get, key="probe_run")
    if len(groups := run_errors(review.probe_groups, store().get_run(run)) or []) < 2:
        st.warning("This run has fewer than two groups.")
        st.stop()
    c1, c2 = st.columns(2)
    ga, gb = (c.selectbox(f"Group {x}", groups, index=i, key=f"group_{x.lower()}")
              for i, (c, x) in enumerate(zip((c1, c2), "AB")))
    pairs = run_errors(review.counterfactual_pairs, proj, run, ga, gb) if ga != gb else None
    key_a, key_b = run, -run  # one probe run: store its group comparison under (run, -run)
else:
    st.info("No probe runs yet: run one on the **Bias probes** page.")
if pairs is None or pairs.empty:
    st.stop()

table = review.verdicts(proj, key_a, key_b)
done = review.mine(table, reviewer)
with st.expander("Filters", expanded=True):
    c1, c2 = st.columns(2)
    only_diff = c1.checkbox("Only items whose outputs differ", value=True, key="only_diff")
    todo = c2.checkbox("Only items I have not reviewed", key="only_todo", disabled=not reviewer)
    view = review.filter_items(pairs, only_changed=only_diff, skip=set(done) if todo else None)
    chosen = {col: st.multiselect(esc(col), vals, key=f"filter_{col}")
              for col in review.filter_columns(view)
              if 1 < len(vals := sorted(view[col].dropna().astype(str).unique())) <= 200}
    cc = st.selectbox("Score change", changes, key="change_col") \
        if (changes := review.change_columns(view)) else None
    top = float(view[cc].abs().max()) if cc and len(view) else 0.0
    thr = st.slider(f"\\|{esc(cc)}\\| at least", 0.0, top, 0.0, key="change_thr") if top else 0.0
    view = review.filter_items(view, only_changed=False, chosen=chosen, change=cc, at_least=thr)
st.caption(f"{len(view)} of {len(pairs)} items match the filters.")
if view.empty:
    st.info("No items match: loosen the filters.")
else:
    item = view.iloc[pos := item_picker(len(view))]
    show_review_item(item)
    comment = st.text_input("Note (optional)", key=f"verdict_note_{item['id']}")
    if current := done.get(str(item["id"])):
        st.caption(f"Your verdict on this item: **{review.VERDICTS[current]}** (a new one "
                   "replaces it).")
    st.caption("Keys 1-4 record a verdict (when the focus is not in a text box); the next "
               "item follows.")
    for n, (col, (code, label)) in enumerate(zip(st.columns(4), review.VERDICTS.items()), 1):
        if col.button(label, key=f"verdict_{code}", shortcut=str(n), width="stretch",
                      type="primary" if code == current else "secondary"):
            if run_errors(lambda: review.record_verdict(  # noqa: B023 - called at once
                    proj, run_a=key_a, run_b=key_b, item=str(item["id"]), verdict=code,
                    reviewer=reviewer, note=comment) or True):
                st.session_state["recorded"] = f"Recorded '{label}' on item {item['id']} as " \
                                               f"{reviewer}."
                st.session_state["next_item"] = pos + (1 if todo else 2)  # the next item
                st.rerun()
    note("recorded")
st.subheader("Verdicts")
verdict_summary(key_a, key_b, table)
