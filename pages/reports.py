from pathlib import Path

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from pages._ui import esc, header, project, run_errors, say, store
from workbench.reports import sign_off_report
from workbench.review import DECISIONS, SIGNABLE, signoffs

header("Reports", "Every generated report, listed from the store: open one inline or download it.")
reports = store().list_reports()
if not reports:
    st.info("No reports yet. Reports are written by `workbench check --html`, "
            "`evaluate --html`, `probe --html` and `bias-report`, and by the pages that run them.")
    st.stop()

kinds = sorted({r["kind"] for r in reports})
chosen = st.multiselect("Kinds", kinds, default=kinds, key="report_kinds")
rows = [r for r in reports if r["kind"] in chosen]
st.dataframe(pd.DataFrame([{"id": r["id"], "kind": r["kind"], "title": r["title"],
                            "signature": r["signature"], "created (UTC)": r["created"],
                            "file": Path(r["path"]).name} for r in rows]),
             hide_index=True, width="stretch")
if rows:
    pick = st.selectbox("Open", [r["id"] for r in rows], key="report_id",
                        format_func=lambda i: next(f"#{r['id']} {r['kind']}: {r['title']}"
                                                   for r in rows if r["id"] == i))
    rep = next(r for r in rows if r["id"] == pick)
    path = Path(rep["path"])
    if not path.is_file():
        st.error(f"The file {esc(path)} is gone: it was moved or deleted after the report was "
                 "made.")
    else:
        data = path.read_bytes()
        st.download_button("Download", data, file_name=path.name, mime="text/html")
        # A sandboxed iframe: the report's own CSP forbids scripts and external loads.
        components.html(data.decode("utf-8", errors="replace"), height=900, scrolling=True)
    if rep["kind"] in SIGNABLE:
        st.subheader("Sign-off")
        with st.form("signoff_form"):
            reviewer = st.text_input("Reviewer", key="signoff_reviewer")
            decision = st.radio("Decision", DECISIONS, horizontal=True, key="signoff_decision")
            comment = st.text_area("Comment", key="signoff_comment")
            if st.form_submit_button("Record sign-off"):
                done = run_errors(sign_off_report, project(), rep["id"], reviewer=reviewer,
                                  decision=decision, comment=comment,
                                  labels={"reviewer": "Reviewer", "decision": "Decision",
                                          "comment": "Comment"})
                if done:
                    st.session_state["signoff_done"] = (done[0].id, len(done[2]))
                    st.rerun()
        if st.session_state.get("signoff_done"):
            sid, cards = st.session_state.pop("signoff_done")
            say("success", f"Sign-off {sid} recorded and shown in the report"
                + (f"; {cards} model card(s) updated." if cards else "."))
        for s in signoffs(project(), rep["id"]):
            st.markdown(f"**{esc(s.decision)}** by {esc(s.reviewer)} · "
                        f"{s.created:%Y-%m-%d %H:%M} UTC" + (f": {esc(s.comment)}"
                                                            if s.comment else ""))
