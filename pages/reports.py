from pathlib import Path

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from pages._ui import esc, header, store

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
