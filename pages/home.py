import pandas as pd
import streamlit as st

from pages._ui import header, project, run_errors, store
from workbench.data import default_name, import_dataset, save_upload
from workbench.review import verdict_count

header("Home", "Your project at a glance: its datasets, the latest runs, and a place to import data.")
proj = project()
st.write(f"Project **{proj.name}** at `{proj.root}`")

datasets = store().list_datasets()
runs = store().list_runs(limit=15)
c1, c2, c3 = st.columns(3)
c1.metric("Datasets", len({d.name for d in datasets}))
c2.metric("Dataset versions", len(datasets))
c3.metric("Runs", len(store().list_runs()))

st.subheader("Where you are in the lifecycle")
kinds = {r.kind for r in store().list_runs(limit=500)}
steps = [
    ("Import data", bool(datasets), "pages/home.py", "use the import form below"),
    ("Check its quality", "check" in kinds, "pages/data_quality.py", "run a check suite"),
    ("Split it", "split" in kinds, "pages/splits.py", "make a stratified split"),
    ("Fine-tune", "train" in kinds, "pages/train.py", "train on the split"),
    ("Evaluate", "evaluate" in kinds, "pages/evaluate.py", "score base and fine-tuned"),
    ("Probe for bias", "probe" in kinds, "pages/bias_probes.py", "compare groups"),
    ("Review outputs", verdict_count(proj) > 0, "pages/review.py",
     "record verdicts side by side"),
]
next_step = next((s for s in steps if not s[1]), None)
cols = st.columns(len(steps))
for col, (label, done, _page, _hint) in zip(cols, steps):
    col.markdown(f"{':material/check_circle:' if done else ':material/radio_button_unchecked:'} "
                 f"{label}")
if next_step:
    st.page_link(next_step[2], label=f"Next: {next_step[0].lower()} ({next_step[3]})",
                 icon=":material/arrow_forward:")
else:
    st.page_link("pages/reports.py", icon=":material/arrow_forward:",
                 label="Every step is done: hand the reports to a reviewer (Reports)")

st.subheader("Datasets")
if datasets:
    st.dataframe(pd.DataFrame([{"name": d.name, "version": d.version, "rows": d.rows,
                                "columns": len(d.columns), "created (UTC)": d.created,
                                "source": d.source} for d in datasets]),
                 hide_index=True, width="stretch")
else:
    st.info("No datasets yet. Start by importing one below: the demo data lives in "
            "`workbench/demo/support_qa.csv`.")

st.subheader("Latest runs")
if runs:
    st.dataframe(pd.DataFrame([{"id": r.id, "kind": r.kind, "name": r.name, "status": r.status,
                                "started (UTC)": r.started,
                                "seconds": None if r.duration_s is None else round(r.duration_s, 1)}
                               for r in runs]), hide_index=True, width="stretch")
else:
    st.caption("No runs yet: check, split, train, evaluate or probe a dataset to see runs here.")

st.subheader("Import data")
with st.form("import_form"):
    upload = st.file_uploader("Upload a CSV, JSONL or Parquet file", key="upload",
                              type=["csv", "jsonl", "ndjson", "parquet", "pq"])
    path = st.text_input("...or a path on this machine (file, datasets folder, packaged:imdb)",
                         key="import_path")
    name = st.text_input("Dataset name (optional)", key="import_name")
    encoding = st.text_input("Encoding", value="utf-8", key="import_encoding")
    submitted = st.form_submit_button("Import")
if submitted:
    source = None
    if upload is not None:
        saved = run_errors(save_upload, proj, upload.name, upload.getvalue())
        if saved:
            source, display = saved
            name = name or default_name(display)
    elif path.strip():
        source = path.strip()
    else:
        st.error("Choose a file to upload or type a path.")
    if source is not None:
        result = run_errors(import_dataset, proj, str(source), name=name or None,
                            encoding=encoding or "utf-8")
        if result:
            dv, created = result
            if created:
                st.success(f"Imported {dv.ref}: {dv.rows} rows, {len(dv.columns)} columns.")
            else:
                st.info(f"Identical content is already stored as {dv.ref}.")
