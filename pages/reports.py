from pages._ui import header, placeholder

header("Reports", "Every generated report, to open inline or download.")
placeholder("the report list.")
