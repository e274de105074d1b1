from pages._ui import header, placeholder

header("Data quality", "Run Great Expectations check suites on a dataset, clean it into a new version, and follow the trend.")
placeholder("check suites and cleaning.")
