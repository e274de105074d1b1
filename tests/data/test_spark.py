"""The Spark engine for real (local[2], one session for the module): import as
partitioned Parquet with a distributed content hash, and check suites through Great
Expectations' Spark engine with the same counts as the pandas engine, rule by rule."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.conftest import run_cli
from workbench.core.errors import WorkbenchError

pytest.importorskip("pyspark")
pytestmark = pytest.mark.slow

SUITE = """\
name: spark_parity
id_column: id
expectations:
  - type: expect_table_row_count_to_be_between
    min_value: 5
  - type: expect_column_values_to_be_unique
    column: id
  - type: expect_column_values_to_not_be_null
    column: question
  - type: expect_column_values_to_be_in_set
    column: topic
    value_set: [billing, shipping, setup]
  - type: expect_column_value_lengths_to_be_between
    column: question
    min_value: 5
    max_value: 40
  - type: expect_column_values_to_match_regex
    column: question
    regex: "\\\\?$"
  - type: expect_column_values_to_be_between
    column: score
    min_value: 0
    max_value: 1
  - type: expect_compound_columns_to_be_unique
    column_list: [question, topic]
"""


@pytest.fixture(scope="module")
def spark():
    from workbench.core.engines import spark_session, stop_spark

    session = spark_session("local[2]")
    yield session
    stop_spark()


@pytest.fixture
def frame():
    return pd.DataFrame({
        "id": ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q7"],
        "question": ["How do I pay?", "Where is my parcel?", None, "Set up <script>?",
                     "Why was I charged twice this month for one plan?", "How do I pay?",
                     "ok", "Can I get a refund"],
        "topic": ["billing", "shipping", "setup", "setup", "refunds", "billing", "setup",
                  "billing"],
        "score": [0.1, 0.5, None, 0.9, 1.5, 0.1, -0.2, 0.3],
    })


def _write_parts(frame: pd.DataFrame, folder, parts: int):
    folder.mkdir(parents=True)
    for k in range(parts):
        frame.iloc[k::parts].to_parquet(folder / f"part-{k}.parquet", index=False)
    return folder


def test_import_partitioned_hash_is_layout_and_order_free(project, spark, frame, tmp_path):
    from workbench.data import (
        import_dataset,
        import_spark,
        load_frame,
        read_spark,
        spark_content_hash,
    )

    src = _write_parts(frame, tmp_path / "three", 3)
    dv, created = import_spark(project, str(src), name="qa", master="local[2]")
    assert created and dv.rows == len(frame)
    stored = project.state / dv.path
    assert stored.is_dir() and list(stored.glob("part-*.parquet"))
    _, back = load_frame(project, dv)  # pandas reads the partitioned copy
    key = ["id", "question", "score"]
    pd.testing.assert_frame_equal(
        back.sort_values(key, na_position="first").reset_index(drop=True),
        frame.sort_values(key, na_position="first").reset_index(drop=True))
    # same rows in another layout and order: the same version
    other = _write_parts(frame.iloc[::-1], tmp_path / "one", 1)
    dv2, created2 = import_spark(project, str(other), name="qa", master="local[2]")
    assert (dv2.version, created2) == (dv.version, False)
    # a changed value: a new version
    changed = frame.assign(score=frame.score.fillna(0.0))
    dv3, created3 = import_spark(project, str(_write_parts(changed, tmp_path / "c", 2)),
                                 name="qa")
    assert created3 and dv3.version != dv.version

    # the pandas engine: its own (order-sensitive) hash, the same schema and rows; the
    # Spark hash of its stored copy equals the Spark-imported version's hash
    frame.to_parquet(tmp_path / "qa.parquet", index=False)
    pv, _ = import_dataset(project, str(tmp_path / "qa.parquet"), name="qa")
    assert pv.version != dv.version
    assert pv.columns == dv.columns
    assert pv.rows == dv.rows
    assert spark_content_hash(read_spark(spark, project.state / pv.path)) == dv.content_hash


@pytest.mark.parametrize("files, match", [
    ({}, r"the folder holds no data files"),
    ({"a.json": "{}"}, r"the Spark engine reads Parquet or CSV files .*found \.json"),
])
def test_import_bad_sources(project, spark, tmp_path, files, match):
    from workbench.data import import_spark

    src = tmp_path / "src"
    src.mkdir()
    for n, text in files.items():
        (src / n).write_text(text)
    with pytest.raises(WorkbenchError, match=match):
        import_spark(project, str(src), name="x")


def test_spark_counts_equal_pandas_rule_by_rule(project, spark, frame, tmp_path):
    from workbench.checks import check_dataset

    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE)
    frame.to_csv(tmp_path / "qa.csv", index=False)
    folder = _write_parts(frame, tmp_path / "parts", 2)
    pandas_report, _ = check_dataset(project, str(tmp_path / "qa.csv"), suite,
                                     data_docs=False)
    spark_report, run_id = check_dataset(project, str(folder), suite, data_docs=False,
                                         engine="spark", spark_master="local[2]")
    csv_report, _ = check_dataset(project, str(tmp_path / "qa.csv"), suite,
                                  data_docs=False, engine="spark")
    for rep in (spark_report, csv_report):
        assert [r.expectation for r in rep.results] == \
            [r.expectation for r in pandas_report.results]
        for a, b in zip(pandas_report.results, rep.results):
            assert (b.success, b.unexpected_count, round(b.unexpected_percent, 6)) == \
                (a.success, a.unexpected_count, round(a.unexpected_percent, 6)), a.label
            assert b.error is None, b.error
        assert rep.to_dict().keys() == pandas_report.to_dict().keys()
    assert sum(r.unexpected_count for r in pandas_report.results) >= 8
    assert not pandas_report.success
    from workbench.core.store import Store

    run = Store.for_project(project).get_run(run_id)
    assert run.config["engine"] == "spark" and run.config["spark_master"] == "local[2]"


def test_text_rules_are_refused_on_spark_by_name(project, spark, tmp_path, frame):
    from workbench.checks import check_dataset

    suite = tmp_path / "text.yaml"
    suite.write_text(SUITE + "  - type: expect_column_values_to_not_have_stray_whitespace\n"
                             "    column: question\n")
    frame.to_parquet(tmp_path / "qa.parquet", index=False)
    with pytest.raises(WorkbenchError, match=r"text\.yaml: the Spark engine runs Great "
                       r"Expectations rules only; these workbench text rules are pandas-only: "
                       r"expectations\[8\] expect_column_values_to_not_have_stray_whitespace"):
        check_dataset(project, str(tmp_path / "qa.parquet"), suite, engine="spark")


def test_cli_import_and_check_on_spark(project, frame, tmp_path):
    folder = _write_parts(frame, tmp_path / "parts", 2)
    proc = run_cli("data", "import", str(folder), "--name", "qa", "--engine", "spark",
                   "--spark-master", "local[2]", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["created"] and out["rows"] == len(frame)
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE)
    proc = run_cli("check", "qa", "--suite", str(suite), "--engine", "spark",
                   "--spark-master", "local[2]", "--no-data-docs", "--json", "-",
                   "--html", str(tmp_path / "r.html"))
    assert proc.returncode == 1, proc.stderr
    res = json.loads(proc.stdout)
    assert set(res) == {"run_id", "success", "suite", "dataset", "results"}
    assert res["dataset"]["name"] == "qa" and not res["success"]
    assert "&lt;script&gt;" in (tmp_path / "r.html").read_text() or \
        "<script>" not in (tmp_path / "r.html").read_text()


@pytest.mark.parametrize("args, match", [
    (["data", "import", "x", "--engine", "polars"], "--engine: unknown engine 'polars'"),
    (["check", "x", "--suite", "s", "--engine", "sparkk"], "did you mean 'spark'"),
    (["data", "import", "x", "--engine", "spark", "--spark-master", "nope"],
     "--spark-master: 'nope' is not a Spark master URL"),
])
def test_cli_bad_engine_input_exits_2(project, args, match):
    proc = run_cli(*args)
    assert proc.returncode == 2 and match in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
