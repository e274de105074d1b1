import pandas as pd
import streamlit as st

from pages._ui import header, project, run_errors, store
from workbench.data import default_name, import_dataset
from workbench.uploads import save_upload

header("Home", "Your project at a glance: its datasets, the latest runs, and a place to import data.")
proj = project()
st.write(f"Project **{proj.name}** at `{proj.root}`")

datasets = store().list_datasets()
runs = store().list_runs(limit=15)
c1, c2, c3 = st.columns(3)
c1.metric("Datasets", len({d.name for d in datasets}))
c2.metric("Dataset versions", len(datasets))
c3.metric("Runs", len(store().list_runs()))

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
                                "started (UTC)": r.started, "seconds": r.duration_s}
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
