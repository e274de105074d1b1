import pandas as pd
import streamlit as st

from pages._ui import esc, header, pick_dataset, project, run_errors, store
from workbench.data import load_frame

header("Data", "Browse stored dataset versions: schema, rows, lineage and a sample.")
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
        st.dataframe(frame.head(n), width="stretch")
        st.page_link("pages/data_quality.py", label="Next: check its quality",
                     icon=":material/rule:")
