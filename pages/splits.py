import pandas as pd
import streamlit as st

from pages._ui import header, pick_dataset, project, run_errors, show_split
from workbench.data import load_frame
from workbench.probes import probe_prompts
from workbench.splits import distinct_counts, label_guess, list_splits, make_split, split_rows

header("Splits", "Make stratified, leak-free, reproducible train/validation/test splits.")
proj = project()
LABELS = {"label": "Label column", "stratify": "Also stratify on", "ratios": "Ratios",
          "group": "Keep groups together", "min-stratum": "Merge strata with fewer rows than this",
          "near-threshold": "Near-duplicate threshold", "text-columns": "Input-text columns"}


@st.cache_data(show_spinner=False)
def columns_of(root: str, ref: str) -> dict[str, int]:
    """Each column's number of distinct values (columns of conversations left out)."""
    return distinct_counts(load_frame(proj, ref)[1])


if ref := pick_dataset("Dataset to split", key="split_dataset"):
    distinct = columns_of(str(proj.root), ref)
    cols, guess = list(distinct), label_guess(distinct)
    c1, c2 = st.columns(2)
    label = c1.selectbox(LABELS["label"], [*cols, "(none)"], key="split_label",
                         index=cols.index(guess) if guess else 0,
                         help="(none): no label, a random split (or one on the strata alone)")
    stratify = c2.multiselect("Also stratify on (crossed with the label)",
                              [c for c in cols if c != label], key="split_stratify")
    c1, c2, c3 = st.columns(3)
    ratios = c1.text_input("Ratios (train,test or train,validation,test)", "0.8,0.1,0.1",
                           key="split_ratios")
    seed = c2.number_input("Seed", min_value=0, value=0, step=1, key="split_seed")
    group = c3.selectbox(LABELS["group"] + " (optional)", ["(none)", *cols], key="split_group")
    with st.expander("Small strata and leakage checks"):
        min_stratum = st.number_input(LABELS["min-stratum"] + " into 'other' (0 = off)",
                                      min_value=0, value=0, step=1, key="split_min_stratum")
        text_cols = st.multiselect("Input-text columns for leakage checks (empty = guess)",
                                   cols, key="split_text")
        threshold = st.slider("Near-duplicate threshold (Jaccard)", 0.5, 1.0, 0.8, 0.01,
                              key="split_threshold")
        dedupe = st.checkbox("Keep each duplicate cluster inside one split (dedupe)",
                             key="split_dedupe")
    if st.button("Make split", type="primary", key="split_run"):
        with st.spinner("Splitting and checking for leakage..."):
            rep = run_errors(make_split, proj, ref, stratify=stratify,
                             label=None if label == "(none)" else label,
                             group=None if group == "(none)" else group, ratios=ratios,
                             seed=int(seed), min_stratum=int(min_stratum) or None,
                             text_columns=text_cols or None, near_threshold=float(threshold),
                             dedupe=dedupe, probe_prompts=probe_prompts(proj), labels=LABELS)
        if rep:
            st.session_state["split_show"] = rep.run_id  # the picker below shows the new split
            st.success(f"Saved split {rep.run_id}: "
                       + ", ".join(f"{p} {n}" for p, n in rep.manifest["counts"].items())
                       + f". Use it as split:{rep.run_id}:train in training.")

st.subheader("Saved splits")
if not (splits := list_splits(proj)):
    st.caption("No splits yet: choose a dataset and a label above and press **Make split**.")
    st.stop()
st.dataframe(pd.DataFrame(split_rows(splits)), hide_index=True, width="stretch")
chosen = st.selectbox("Show split", [r.id for r in splits], key="split_show")
show_split(next(r for r in splits if r.id == chosen))
