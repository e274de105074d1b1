import pandas as pd
import streamlit as st

from pages._ui import header, note, project, run_errors, store
from workbench.core.access import app_path
from workbench.data import import_dataset, import_notes, import_upload
from workbench.review import verdict_count

header("Home", "Your project at a glance: its datasets, the latest runs, and a place to "
       "import data.")
proj = project()
datasets, runs = store().list_datasets(), store().list_runs()
c1, c2, c3 = st.columns(3)
c1.metric("Datasets", len({d.name for d in datasets}))
c2.metric("Dataset versions", len(datasets))
c3.metric("Runs", len(runs))

st.subheader("Where you are in the lifecycle")
kinds = {r.kind for r in runs}
steps = [("Import data", bool(datasets), "pages/home.py", "use the import form below"),
         ("Check its quality", "check" in kinds, "pages/data_quality.py", "run a check suite"),
         ("Split it", "split" in kinds, "pages/splits.py", "make a stratified split"),
         ("Fine-tune", "train" in kinds, "pages/train.py", "train on the split"),
         ("Evaluate", "evaluate" in kinds, "pages/evaluate.py", "score base and fine-tuned"),
         ("Probe for bias", "probe" in kinds, "pages/bias_probes.py", "compare groups"),
         ("Review outputs", verdict_count(proj) > 0, "pages/review.py", "record verdicts")]
for col, (label, done, _page, _hint) in zip(st.columns(len(steps)), steps):
    col.markdown(f"{':material/check_circle:' if done else ':material/radio_button_unchecked:'} "
                 f"{label}")
if next_step := next((s for s in steps if not s[1]), None):
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
    st.info("No datasets yet. Import one below: a CSV, JSONL or Parquet file, a datasets "
            "folder in this project, or packaged:imdb.")

st.subheader("Latest runs")
if runs:
    st.dataframe(pd.DataFrame([{"id": r.id, "kind": r.kind, "name": r.name, "status": r.status,
                                "started (UTC)": r.started,
                                "seconds": None if r.duration_s is None else round(r.duration_s, 1)}
                               for r in runs[:15]]), hide_index=True, width="stretch")
else:
    st.caption("No runs yet: check, split, train, evaluate or probe a dataset to see runs here.")

st.subheader("Import data")
with st.form("import_form"):
    upload = st.file_uploader("Upload a CSV, JSONL or Parquet file", key="upload",
                              type=["csv", "jsonl", "ndjson", "parquet", "pq"])
    path = st.text_input("...or a path in this project (file, datasets folder) or packaged:imdb",
                         key="import_path")
    name = st.text_input("Dataset name (optional)", key="import_name")
    encoding = st.text_input("Encoding", value="utf-8", key="import_encoding")
    submitted = st.form_submit_button("Import")
labels = {"encoding": "Encoding", "path": "Path", "name": "Dataset name"}
result = None
if submitted and upload is not None:
    result = run_errors(import_upload, proj, upload.name, upload.getvalue(), name=name or None,
                        encoding=encoding or "utf-8", labels=labels)
elif submitted and path.strip():
    if (source := run_errors(app_path, proj, path, labels=labels)) is not None:
        result = run_errors(import_dataset, proj, str(source), name=name or None,
                            encoding=encoding or "utf-8", labels=labels)
elif submitted:
    st.error("Choose a file to upload or type a path.")
if result:  # rerun, so the tables above list it
    dv = result[0]
    st.session_state["import_note"] = (f"Imported {dv.ref}: {dv.rows} rows, {len(dv.columns)} "
                                       "columns." if result[1] else
                                       f"Identical content is already stored as {dv.ref}.") \
        + "".join(f" Note: {n}." for n in import_notes(dv))
    st.rerun()
note("import_note")
