"""``clean --engine spark`` (local[2], one session for the module): the row-local rules
give the same rows as the pandas engine, the result is a new partitioned-Parquet version
with lineage ``clean`` to its untouched parent, and pandas-only rules are refused by name."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import run_cli
from tests.data.test_spark import spark  # noqa: F401 - the module-scoped local[2] session
from workbench.core.errors import WorkbenchError

pytest.importorskip("pyspark")
pytestmark = pytest.mark.slow

RULES = """\
id_column: id
clean:
  - type: normalize_text
    columns: [question, answer]
  - type: drop_nulls
    columns: [question]
  - type: drop_duplicates
    columns: [question, answer]
  - type: filter_length
    column: question
    min_words: 2
    max_chars: 60
  - type: mask_pii
    columns: [answer]
"""


@pytest.fixture
def frame():
    return pd.DataFrame({
        "id": [f"q{i}" for i in range(1, 11)],
        "question": ["How do I  pay?", "How do I pay?", None, "ok", "Ｆｕｌｌ width  question?",
                     "Where is my parcel?", " Where is my parcel? ", "Set up <script>?",
                     "x " * 40, "Can I get a refund"],
        "answer": ["Card only.", "Card only.", "n/a", "fine", "Yes.", "Call +1 555 0100 now",
                   "Call +1 555 0100 now", "mail jane@example.com", "long", None],
        "score": [0.1, 0.2, 0.3, None, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
    })


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("id").reset_index(drop=True)


def test_spark_clean_equals_pandas_clean(project, spark, frame, tmp_path):
    from workbench.clean import clean_dataset
    from workbench.core.store import Store
    from workbench.data import (
        import_dataset,
        load_frame,
        read_spark,
        spark_content_hash,
    )

    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    frame.to_parquet(tmp_path / "qa.parquet", index=False)
    parent, _ = import_dataset(project, str(tmp_path / "qa.parquet"), name="qa")
    parent_files = {p: p.stat().st_mtime_ns for p in (project.state / parent.path).parent.rglob("*")}

    pan = clean_dataset(project, parent.ref, rules, name="qa_pandas")
    spk = clean_dataset(project, parent.ref, rules, name="qa_spark", engine="spark",
                        spark_master="local[2]")
    assert spk.engine == "spark" and spk.parent == parent.ref
    # same per-rule summary: rows removed / changed
    assert [(s.type, s.rows_before, s.rows_removed, s.rows_changed) for s in spk.steps] == \
        [(s.type, s.rows_before, s.rows_removed, s.rows_changed) for s in pan.steps]
    assert (spk.rows_before, spk.rows_after) == (pan.rows_before, pan.rows_after) == (10, 5)
    by_type = {s.type: s for s in spk.steps}
    assert by_type["drop_duplicates"].examples == [{"row": "q2", "duplicate_of": "q1"},
                                                   {"row": "q7", "duplicate_of": "q6"}]
    assert all("before" not in e and "555" not in e["after"]
               for e in by_type["mask_pii"].examples)
    # the same rows
    _, a = load_frame(project, pan.result)
    dv, b = load_frame(project, spk.result)
    pd.testing.assert_frame_equal(_sorted(b), _sorted(a))
    assert "[PHONE]" in b.answer.str.cat() and "[EMAIL]" in b.answer.str.cat()
    # a partitioned Parquet version named by the Spark content hash, lineage to its parent
    stored = project.state / dv.path
    assert stored.is_dir() and list(stored.glob("part-*.parquet"))
    assert spark_content_hash(read_spark(spark, stored)) == dv.content_hash
    store = Store.for_project(project)
    assert {"type": "dataset", "id": parent.ref, "relation": "clean"} in \
        store.lineage(("dataset", spk.result))["parents"]
    run = store.get_run(spk.run_id)
    assert run.config["engine"] == "spark" and run.config["spark_master"] == "local[2]"
    # the parent is untouched
    assert {p: p.stat().st_mtime_ns for p in (project.state / parent.path).parent.rglob("*")
            if p in parent_files} == parent_files
    _, again = load_frame(project, parent.ref)
    pd.testing.assert_frame_equal(again, frame)


@pytest.mark.parametrize("extra, match", [
    ("  - {type: drop_near_duplicates, column: question}\n",
     r"rules\.yaml: the Spark engine runs the cleaning rules normalize_text, drop_nulls, "
     r"drop_duplicates, filter_length, mask_pii; these need the whole column in one process "
     r"and are pandas-only: clean\[5\] drop_near_duplicates; run them with the pandas engine"),
    ("  - {type: drop_near_duplicates, column: question}\n"
     "  - {type: drop_unexpected_rows, rule: r1}\nexpectations:\n"
     "  - {type: expect_column_values_to_not_be_null, column: answer, meta: {id: r1}}\n",
     r"pandas-only: clean\[5\] drop_near_duplicates, clean\[6\] drop_unexpected_rows;"),
])
def test_pandas_only_rules_are_refused(project, frame, tmp_path, extra, match):
    from workbench.clean import clean_dataset

    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES + extra)
    with pytest.raises(WorkbenchError, match=match):
        clean_dataset(project, "qa", rules, engine="spark")


def test_cli_clean_engine_errors_exit_2(project, tmp_path):
    # (the Spark run itself is tested in-process above: a second JVM here costs ~60 s)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES + "  - {type: drop_near_duplicates, column: question}\n")
    proc = run_cli("clean", "qa", "--rules", str(rules), "--engine", "spark")
    assert proc.returncode == 2 and "pandas-only: clean[5] drop_near_duplicates" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli("clean", "qa", "--rules", str(rules), "--engine", "sprak")
    assert proc.returncode == 2 and "did you mean 'spark'" in proc.stderr
    proc = run_cli("clean", "qa", "--rules", str(rules), "--engine", "spark",
                   "--spark-master", "nope")
    assert proc.returncode == 2 and "pandas-only" in proc.stderr
