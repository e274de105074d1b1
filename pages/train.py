import streamlit as st

from pages._ui import (esc, header, job_started, number_inputs, past_runs_table, project,
                       run_errors, show_train_run, store, training_now)
from workbench.core.access import app_path
from workbench.splits import list_splits
from workbench.train import (base_models, column_roles, failed_jobs, form_config, jobs,
                             split_columns)

header("Train", "Fine-tune a model with Hugging Face Trainer and follow its loss live.")
proj = project()
if not (splits := list_splits(proj)):
    st.info("Training needs a split. Make one on the **Splits** page first (for the demo: "
            "the cleaned support_raw, label topic, stratify persona), then come back.")
    st.page_link("pages/splits.py", label="Go to Splits", icon=":material/call_split:")
st.subheader("Start a run")
st.caption("Runs go to a background process (`workbench train CONFIG`): this page stays "
           "responsive, and a refresh loses nothing.")
form_tab, file_tab = st.tabs(["From a form", "From a config file"])
with form_tab:
    if splits:
        split_labels = {f"split:{r.id}": f"split:{r.id} · {r.name or ''}" for r in splits}
        c1, c2, c3 = st.columns([2, 2, 3])
        model = c1.selectbox("Base model", base_models(proj), key="model")
        split = c2.selectbox("Split", list(split_labels), format_func=split_labels.get,
                             key="split")
        task = c3.radio("Task", ["causal-lm", "classification", "seq2seq"], horizontal=True,
                        key="task", help="seq2seq: an encoder-decoder base, or one built from "
                                         "an encoder such as packaged:minilm-l6 (full only)")
        cols = run_errors(split_columns, proj, split) or []
        first, second = (c.selectbox(label, cols, key=key, index=cols.index(d) if d in cols else 0)
                         for c, (label, d), key in zip(st.columns(2), column_roles(task),
                                                       ("col_in", "col_out")))
        with st.form("train_form"):
            fields = number_inputs([
                ("learning_rate", "Learning rate", 1e-3, "lr", "%.0e"),
                ("batch_size", "Batch size", 4, "batch", None),
                ("max_steps", "Max steps", 40, "max_steps", None),
                ("max_length", "Max length (tokens)", 112, "max_len", None),
                ("eval_steps", "Evaluate / save every", 20, "eval_steps", None)])
            fields["method"] = st.radio("Method", ["lora", "full"], horizontal=True, key="method",
                                        help="LoRA: learning rate ~1e-3; full fine-tuning ~5e-5.")
            lr_search = st.checkbox("Run a learning-rate search instead", key="form_lr_search")
            name = st.text_input("Run name", value="app-run", key="run_name")
            if st.form_submit_button("Start training"):
                data = form_config(name=name, model=model, task=task, split=split, first=first,
                                   second=second, **fields)
                if (path := run_errors(jobs.save_form_config, proj, data, name=name)) and \
                        (job := run_errors(jobs.start_job, proj, path, lr_search=lr_search)):
                    job_started(job, f"Started process {job.pid} with the config saved at "
                                     f"{esc(path)}.")
with file_tab, st.form("file_form"):
    cfg_path = st.text_input("Config file (relative to the project)", key="cfg_path",
                             value="configs/demo_lora.yaml")
    c1, c2 = st.columns(2)
    resume = c1.checkbox("Resume an interrupted run of it", key="resume")
    file_lr = c2.checkbox("Learning-rate search instead", key="file_lr_search")
    if st.form_submit_button("Start from file") and (cfg := run_errors(
            app_path, proj, cfg_path, labels={"path": "Config file"})) \
            and (job := run_errors(jobs.start_job, proj, cfg, resume=resume, lr_search=file_lr)):
        job_started(job, f"Started process {job.pid} for {esc(job.config)}.")
training_now()
st.subheader("Past runs")
runs = [r for r in store().list_runs(limit=200) if r.kind in ("train", "lr-search")]
for job in failed_jobs(proj):
    st.error(f"Process {job.pid} ({esc(job.config)}) stopped before training: "
             f"{esc(job.error_line())}")
if not past_runs_table():  # refreshed every 2 s: a running run's phase and ETA stay current
    st.info("No training runs yet. Start one above; the demo config is "
            "`configs/demo_lora.yaml` (SmolLM2-135M-Instruct with LoRA, a few minutes on a CPU).")
    st.stop()
if runs:
    # No status in the label: a keyed selectbox keeps an option's old text when it changes.
    labels = {r.id: f"run:{r.id} · {r.kind} · {r.name or ''}" for r in runs}
    shown = st.selectbox("Show a run", list(labels), format_func=labels.get, key="show_run")
    run = next(r for r in runs if r.id == shown)  # the box once, not once per run it passes
    show_train_run(run, jobs.progress(proj, run.id))
