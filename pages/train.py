import pandas as pd
import streamlit as st

from pages._ui import header, project, run_errors, store
from workbench.models import list_models
from workbench.splits import list_splits, load_split
from workbench.train import jobs

header("Train", "Fine-tune a model with Hugging Face Trainer and follow its loss live.")
proj = project()
splits = list_splits(proj)
if not splits:
    st.info("Training needs a split. Make one on the **Splits** page first (for the demo: "
            "the cleaned support_raw, label topic, stratify persona), then come back.")
    st.page_link("pages/splits.py", label="Go to Splits", icon=":material/call_split:")

# ------------------------------------------------------------------------ start a run
st.subheader("Start a run")
st.caption("Runs go to a background process (`workbench train CONFIG`): this page stays "
           "responsive, and a refresh loses nothing.")
form_tab, file_tab = st.tabs(["From a form", "From a config file"])

with form_tab:
    if splits:
        specs = [m.spec for m in list_models(proj) if m.kind != "trained" or m.prepared]
        split_labels = {f"split:{r.id}": f"split:{r.id} · {r.name or ''}" for r in splits}
        c1, c2 = st.columns(2)
        model = c1.selectbox("Base model", specs, key="model")
        split = c2.selectbox("Split", list(split_labels), format_func=split_labels.get,
                             key="split")
        _, dd = run_errors(load_split, proj, split) or (None, None)
        columns = [c for c in dd["train"].column_names if c != "_row_id"] if dd else []
        task = st.radio("Task", ["causal-lm", "classification", "seq2seq"], horizontal=True,
                        key="task", help="seq2seq: an encoder-decoder base, or one built from "
                                         "an encoder such as packaged:minilm-l6 (full only)")
        c1, c2 = st.columns(2)
        if task in ("causal-lm", "seq2seq"):
            first = c1.selectbox("Prompt column", columns, key="col_in",
                                 index=columns.index("question") if "question" in columns else 0)
            second = c2.selectbox("Response column", columns, key="col_out",
                                  index=columns.index("answer") if "answer" in columns else 0)
        else:
            first = c1.selectbox("Text column", columns, key="col_in")
            second = c2.selectbox("Label column", columns, key="col_out")
        with st.form("train_form"):
            c1, c2, c3 = st.columns(3)
            method = c1.radio("Method", ["lora", "full"], horizontal=True, key="method")
            lr = c2.number_input("Learning rate", value=1e-3, format="%.0e", key="lr",
                                 help="LoRA: ~1e-3; full fine-tuning: ~5e-5. Try the "
                                      "learning-rate search below when unsure.")
            batch = c3.number_input("Batch size", value=4, step=1, key="batch")
            c1, c2, c3 = st.columns(3)
            max_steps = c1.number_input("Max steps", value=40, step=10, key="max_steps")
            max_len = c2.number_input("Max length (tokens)", value=112, step=16, key="max_len")
            eval_steps = c3.number_input("Evaluate / save every", value=20, step=5,
                                         key="eval_steps")
            lr_search = st.checkbox("Run a learning-rate search instead of training",
                                    key="form_lr_search")
            name = st.text_input("Run name", value="app-run", key="run_name")
            submitted = st.form_submit_button("Start training")
        if submitted:
            keys = ("text", "label") if task == "classification" else ("prompt", "response")
            data = {"name": name, "model": model, "task": task, "method": method,
                    "data": {"split": split, keys[0]: first, keys[1]: second,
                             "max_eval_rows": 16},
                    "training": {"learning_rate": float(lr), "batch_size": int(batch),
                                 "max_steps": int(max_steps), "max_length": int(max_len),
                                 "logging_steps": 1 if max_steps <= 50 else 5,
                                 "eval_steps": int(eval_steps), "save_steps": int(eval_steps)}}
            path = run_errors(jobs.save_form_config, proj, data, name=name)
            if path:
                job = run_errors(jobs.start_job, proj, path, lr_search=lr_search)
                if job:
                    st.success(f"Started process {job.pid} with the config saved at {path}.")

with file_tab:
    with st.form("file_form"):
        cfg_path = st.text_input("Config file (relative to the project)",
                                 value="configs/demo_lora.yaml", key="cfg_path")
        c1, c2 = st.columns(2)
        resume = c1.checkbox("Resume an interrupted run of it", key="resume")
        file_lr = c2.checkbox("Learning-rate search instead", key="file_lr_search")
        go = st.form_submit_button("Start from file")
    if go:
        job = run_errors(jobs.start_job, proj, cfg_path.strip(), resume=resume, lr_search=file_lr)
        if job:
            st.success(f"Started process {job.pid} for {job.config}.")


# ---------------------------------------------------------------------- live progress
def loss_chart(rows: list[dict]) -> None:
    """Training loss as a line, evaluation loss as points joined by a line (it is logged
    only every ``eval_steps``, so a plain line chart would leave it invisible)."""
    import altair as alt

    frame = pd.DataFrame(rows)
    cols = [k for k in ("loss", "eval_loss") if k in frame]
    if frame.empty or not cols:
        return
    long = frame.melt(id_vars="step", value_vars=cols, var_name="series",
                      value_name="value").dropna()
    long["series"] = long["series"].map({"loss": "training loss", "eval_loss": "eval loss"})
    st.altair_chart(alt.Chart(long).mark_line(point=True).encode(
        alt.X("step:Q"), alt.Y("value:Q", title="loss"), alt.Color("series:N", title=None),
        tooltip=["series", "step", alt.Tooltip("value:Q", format=".4f")]).properties(height=260),
        width="stretch")


@st.fragment(run_every=2)
def live() -> None:
    active = [j for j in jobs.list_jobs(proj) if j.alive]
    running = [r for r in store().list_runs(status="running", limit=20)
               if r.kind in ("train", "lr-search")]
    # When a job or run it was showing ends, refresh the whole page so the finished run
    # appears under Past runs (this fragment alone reruns every 2 s).
    seen = {f"job:{j.pid}" for j in active} | {f"run:{r.id}" for r in running}
    before = st.session_state.get("live_seen", set())
    st.session_state["live_seen"] = seen
    if before - seen:
        st.rerun()
    if not active and not running:
        st.caption("Nothing is training right now.")
        return
    shown: set[int] = set()
    for job in active:
        run = jobs.job_run(proj, job)
        st.markdown(f"**Process {job.pid}** · {job.mode} · `{job.config}`")
        if run is None:
            st.progress(0.0, text="checking the config, data and model...")
            st.code(job.log_tail(6) or "(starting)", language=None)
        else:
            shown.add(run.id)
            _run_progress(run.id)
        if st.button("Cancel", key=f"cancel_{job.pid}"):
            status = jobs.cancel(proj, pid=job.pid, run_id=run.id if run else None)
            st.warning(f"Process {job.pid} stopped; the run is {status}.")
    for run in running:
        if run.id in shown:
            continue
        p = jobs.progress(proj, run.id)
        if p["interrupted"]:
            continue  # listed below with a resume hint
        st.markdown(f"**run:{run.id}** · {run.name or ''} (started outside the app)")
        _run_progress(run.id)
        if st.button("Cancel", key=f"cancel_run_{run.id}"):
            status = jobs.cancel(proj, pid=run.pid, run_id=run.id)
            st.warning(f"run:{run.id} is {status}.")


def _run_progress(run_id: int) -> None:
    p = jobs.progress(proj, run_id)
    total = p["max_steps"] or 1
    text = f"run:{run_id}: step {p['step']} of {p['max_steps'] or '?'}"
    if p["loss"] is not None:
        text += f" · loss {p['loss']:.4f}"
    if p["eval_loss"] is not None:
        text += f" · eval loss {p['eval_loss']:.4f}"
    st.progress(min(p["step"] / total, 1.0), text=text)
    loss_chart(p["curve"])


st.subheader("Now training")
live()

# ------------------------------------------------------------------------- past runs
st.subheader("Past runs")
runs = [r for r in store().list_runs(limit=200) if r.kind in ("train", "lr-search")]
failed_jobs = [j for j in jobs.list_jobs(proj, limit=5) if not j.alive and j.error_line()
               and jobs.job_run(proj, j) is None]
for job in failed_jobs[:3]:
    st.error(f"Process {job.pid} ({job.config}) stopped before training: {job.error_line()}")
if not runs:
    st.info("No training runs yet. Start one above; the demo config is "
            "`configs/demo_lora.yaml` (SmolLM2-135M-Instruct with LoRA, a few minutes on a CPU).")
    st.stop()


def summary(r) -> dict:
    status = r.status
    if status == "running" and jobs.progress(proj, r.id)["interrupted"]:
        status = "interrupted (resume it)"
    return {"id": r.id, "kind": r.kind, "name": r.name, "status": status,
            "model": r.config.get("model"), "method": r.config.get("method"),
            "steps": r.outputs.get("steps"), "train loss": r.outputs.get("train_loss"),
            "eval loss": r.outputs.get("eval_loss_end"),
            "chosen lr": r.outputs.get("chosen_lr"),
            "seconds": round(r.duration_s, 1) if r.duration_s else None,
            "started (UTC)": r.started}


st.dataframe(pd.DataFrame([summary(r) for r in runs]), hide_index=True, width="stretch")
# No status in the label: a keyed selectbox keeps showing an option's old text when only
# the text changes (running -> succeeded), so the status is shown below it instead.
labels = {r.id: f"run:{r.id} · {r.kind} · {r.name or ''}" for r in runs}
pick = st.selectbox("Show a run", list(labels), format_func=labels.get, key="show_run")
run = next(r for r in runs if r.id == pick)
p = jobs.progress(proj, run.id)
st.caption(f"Status: **{summary(run)['status']}** · {run.config.get('model')} · started "
           f"{run.started:%Y-%m-%d %H:%M} UTC")
if run.kind == "lr-search":
    frame = pd.DataFrame(p["curve"])
    if not frame.empty and "lr" in frame:
        st.line_chart(frame.set_index("lr")[[c for c in ("loss", "smoothed_loss") if c in frame]],
                      x_label="learning rate", y_label="training loss")
    if run.outputs.get("chosen_lr"):
        st.metric("Chosen learning rate", f"{run.outputs['chosen_lr']:.3g}")
        st.caption(run.outputs.get("rule", ""))
    if run.outputs.get("report"):
        st.caption(f"Report with the loss-versus-rate plot: {run.outputs['report']}")
else:
    loss_chart(p["curve"])
    c1, c2, c3 = st.columns(3)
    c1.metric("Steps", run.outputs.get("steps", p["step"]))
    start = run.outputs.get("eval_loss_start")
    end = run.outputs.get("eval_loss_end", p["eval_loss"])  # the latest while it runs
    c2.metric("Eval loss", f"{end:.4f}" if end is not None else "n/a",
              delta=f"{end - start:+.4f}" if end is not None and start is not None else None,
              delta_color="inverse")
    c3.metric("Device", (run.outputs.get("device") or {}).get("device", "?"))
    example = run.outputs.get("example")
    if example:
        st.markdown("**Example: before and after**")
        st.text(f"Prompt: {example['prompt']}")
        c1, c2 = st.columns(2)
        c1.caption("Base model")
        c1.code(example.get("before") or "(empty)", language=None, wrap_lines=True)
        c2.caption("Fine-tuned")
        c2.code(example.get("after") or "(empty)", language=None, wrap_lines=True)
    if run.outputs.get("checkpoint"):
        st.caption(f"Checkpoint (use it as the model spec run:{run.id}): "
                   f"{run.outputs['checkpoint']}")
        st.page_link("pages/evaluate.py", icon=":material/arrow_forward:",
                     label=f"Next: evaluate run:{run.id} against its base model")
    if p["interrupted"] or run.status in ("cancelled", "failed"):
        cfg_file = run.config.get("config_path")
        if run.error:
            st.text(f"Error: {run.error}")
        if cfg_file and st.button("Resume this run", key=f"resume_{run.id}"):
            job = run_errors(jobs.start_job, proj, cfg_file, resume=True)
            if job:
                st.success(f"Resuming in process {job.pid}.")
