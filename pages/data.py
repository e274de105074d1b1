import pandas as pd
import streamlit as st

from pages._ui import esc, header, pick_dataset, project, run_errors, show_chat, store
from workbench.data import (DOWNLOADS, download_name, export_bytes, is_conversation_column,
                            load_frame, render_turns)

header("Data", "Browse stored dataset versions: schema, rows, lineage, a sample and its "
       "conversations; download a version as CSV, JSONL or Parquet.")
ref = pick_dataset()
if ref:
    loaded = run_errors(load_frame, project(), ref)
    if loaded:
        dv, frame = loaded
        c1, c2, c3 = st.columns(3)
        c1.metric("Rows", dv.rows)
        c2.metric("Columns", len(dv.columns))
        c3.metric("Version", dv.version)
        st.caption(f"Content hash `{dv.content_hash}` · source: {esc(dv.source)}")
        st.subheader("Schema")
        st.dataframe(pd.DataFrame(dv.columns), hide_index=True)
        lineage = store().lineage(("dataset", dv.ref))
        if lineage["parents"] or lineage["children"]:
            st.subheader("Lineage")
            st.dataframe(pd.DataFrame(
                [{"direction": "from", **e} for e in lineage["parents"]]
                + [{"direction": "to", **e} for e in lineage["children"]]), hide_index=True)
        st.subheader("Sample")
        n = st.slider("Rows to show", 5, 200, 20, key="sample_rows")
        chats = [str(c) for c in frame.columns if is_conversation_column(frame[c])]
        st.dataframe(frame.head(n).assign(**{c: frame[c].head(n).map(render_turns)
                                             for c in chats}), width="stretch")
        if chats:
            st.subheader("Conversations")
            c1, c2 = st.columns(2)
            row = int(c1.number_input(f"Row (1 to {len(frame)})", 1, max(len(frame), 1), 1,
                                      key="chat_row")) - 1
            col = c2.selectbox("Column", chats, key="chat_col") if len(chats) > 1 else chats[0]
            st.caption(esc(f"Row {row + 1}" + (f" (id {frame['id'].iloc[row]})"
                                               if "id" in frame.columns else "") + f" · {col}"))
            show_chat(frame[col].iloc[row])
        st.subheader("Download")
        fmt = st.radio("Format", list(DOWNLOADS), horizontal=True, key="export_format",
                       help="The same file as `workbench data export`: conversations stay "
                            "JSON lists of turns.")
        st.download_button(f"Download {download_name(dv.ref, fmt)}", key="export_download",
                           data=lambda: export_bytes(project(), dv.ref, fmt),
                           file_name=download_name(dv.ref, fmt), mime=DOWNLOADS[fmt][1],
                           on_click="ignore")
        st.page_link("pages/data_quality.py", label="Next: check its quality",
                     icon=":material/rule:")
