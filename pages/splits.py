import pandas as pd
import streamlit as st

from pages._ui import header, pick_dataset, project, run_errors
from workbench.data import load_frame
from workbench.probes import probe_prompts
from workbench.splits import leakage_rows, list_splits, make_split, strata_table

header("Splits", "Make stratified, leak-free, reproducible train/validation/test splits.")
proj = project()


@st.cache_data(show_spinner=False)
def columns_of(root: str, ref: str) -> tuple[list[str], dict[str, int]]:
    _, frame = load_frame(proj, ref)
    return [str(c) for c in frame.columns], {str(c): int(frame[c].nunique()) for c in frame.columns}


ref = pick_dataset("Dataset to split", key="split_dataset")
if ref:
    cols, distinct = columns_of(str(proj.root), ref)
    # a label is a column with few distinct values; guess the first such column
    guesses = [c for c in cols if 1 < distinct[c] <= 50]
    c1, c2 = st.columns(2)
    label = c1.selectbox("Label column", cols, key="split_label",
                         index=cols.index(guesses[0]) if guesses else 0)
    stratify = c2.multiselect("Also stratify on (crossed with the label)",
                              [c for c in cols if c != label], key="split_stratify")
    c1, c2, c3 = st.columns(3)
    ratios = c1.text_input("Ratios (train,test or train,validation,test)", "0.8,0.1,0.1",
                           key="split_ratios")
    seed = c2.number_input("Seed", min_value=0, value=0, step=1, key="split_seed")
    group = c3.selectbox("Keep groups together (optional)", ["(none)", *cols],
                         key="split_group")
    with st.expander("Small strata and leakage checks"):
        min_stratum = st.number_input(
            "Merge strata with fewer rows than this into 'other' (0 = off)", min_value=0,
            value=0, step=1, key="split_min_stratum")
        text_cols = st.multiselect("Input-text columns for leakage checks (empty = guess)",
                                   cols, key="split_text")
        threshold = st.slider("Near-duplicate threshold (Jaccard)", 0.5, 1.0, 0.8, 0.01,
                              key="split_threshold")
        dedupe = st.checkbox("Keep each duplicate cluster inside one split (dedupe)",
                             key="split_dedupe")
    if st.button("Make split", type="primary", key="split_run"):
        with st.spinner("Splitting and checking for leakage..."):
            rep = run_errors(make_split, proj, ref, label=label, stratify=stratify,
                             group=None if group == "(none)" else group, ratios=ratios,
                             seed=int(seed), min_stratum=int(min_stratum) or None,
                             text_columns=text_cols or None, near_threshold=float(threshold),
                             dedupe=dedupe, probe_prompts=probe_prompts(proj))
        if rep:
            st.session_state["split_view"] = rep.run_id
            st.success(f"Saved split {rep.run_id}: "
                       + ", ".join(f"{p} {n}" for p, n in rep.manifest["counts"].items())
                       + f". Use it as split:{rep.run_id}:train in training.")

st.subheader("Saved splits")
splits = list_splits(proj)
if not splits:
    st.caption("No splits yet: choose a dataset and a label above and press **Make split**.")
    st.stop()
st.dataframe(pd.DataFrame([{
    "id": r.id, "dataset": r.name, "label": r.config.get("label"),
    "stratify": ", ".join(r.config.get("stratify") or []), "group": r.config.get("group"),
    "ratios": ", ".join(f"{x:g}" for x in r.config.get("ratios", [])),
    "seed": r.config.get("seed"),
    **r.outputs["manifest"]["counts"],
    "cross-split leaks": r.outputs["manifest"]["leakage"].get("cross_split"),
    "created (UTC)": r.started} for r in splits]), hide_index=True, width="stretch")

ids = [r.id for r in splits]
default = st.session_state.get("split_view", ids[0])
chosen = st.selectbox("Show split", ids, index=ids.index(default) if default in ids else 0,
                      key="split_show")
run = next(r for r in splits if r.id == chosen)
manifest = run.outputs["manifest"]
cols = st.columns(len(manifest["counts"]) + 1)
for col, (part, n) in zip(cols, manifest["counts"].items()):
    col.metric(part, n)
cols[-1].metric("seed", manifest["seed"])
if manifest.get("merged_strata"):
    st.caption(f"Merged into 'other' (fewer than {manifest['min_stratum']} rows): "
               + ", ".join(manifest["merged_strata"]))

table = strata_table(manifest)
st.markdown("**Each stratum's share of every split** (equal bars = the same mix everywhere)")
shares = table.set_index("stratum")[[f"{p} %" for p in manifest["counts"]]]
shares.columns = list(manifest["counts"])
st.bar_chart(shares, stack=False, horizontal=True, y_label="share of split (%)")
st.dataframe(table, hide_index=True, width="stretch")

st.markdown("**Leakage**")
lk = manifest.get("leakage") or {}
if not lk.get("checked"):
    st.caption("Leakage was not checked for this split.")
elif lk.get("note"):
    st.warning(lk["note"])
else:
    ex, near, probe = lk["exact"], lk["near"], lk["probe_overlap"]
    c1, c2, c3 = st.columns(3)
    c1.metric("Exact-duplicate clusters across splits", ex["cross_split_clusters"],
              help=f"{ex['clusters']} clusters in all, text: {', '.join(lk['text_columns'])}")
    c2.metric(f"Near-duplicate pairs across splits (≥ {near['threshold']:g})",
              near["cross_split_pairs"], help=f"{near['pairs']} pairs in all")
    c3.metric("Rows containing a probe prompt", probe["rows"],
              help=f"{probe['prompts']} prompts from "
                   + (", ".join(probe.get("probe_sets") or []) or "no probe sets"))
    rows = leakage_rows(lk)
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        if lk["cross_split"] and not lk.get("dedupe"):
            st.info("Tick **dedupe** to keep each duplicate cluster inside one split.")
    else:
        st.success("No duplicates and no probe prompts found.")
st.caption(f"Stored at `{run.outputs['path']}`")
