"""workbench: the Streamlit app. Run with the README's command (`make app`)."""

import streamlit as st

st.set_page_config(page_title="workbench", page_icon=":material/science:", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/data.py", title="Data", icon=":material/table:"),
    st.Page("pages/data_quality.py", title="Data quality", icon=":material/rule:"),
    st.Page("pages/splits.py", title="Splits", icon=":material/call_split:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
    st.Page("pages/bias_probes.py", title="Bias probes", icon=":material/balance:"),
    st.Page("pages/review.py", title="Review", icon=":material/compare:"),
    st.Page("pages/reports.py", title="Reports", icon=":material/description:"),
]

st.navigation(PAGES).run()
