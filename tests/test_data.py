from __future__ import annotations

import hashlib
import json
import os
import sqlite3

import pandas as pd
import pytest

from conftest import run_cli
from workbench.core.errors import WorkbenchError
from workbench.core.store import Store
from workbench.data import import_dataset, load_frame

BAD_FILES = [
    ("missing.csv", None, "no such file"),
    ("empty.csv", b"", "the file is empty"),
    ("blank.csv", b"\n\n", "the file is empty"),
    ("header.csv", b"a,b\n", "has a header but no data rows"),
    ("ragged.csv", b"a,b\n1,2\n3,4,5\n", "line 3 has 3 fields, the header has 2"),
    ("short.csv", b"a,b,c\n1,2,3\n4,5\n", "line 3 has 2 fields, the header has 3"),
    ("latin.csv", b"a,b\n1,caf\xe9\n", r"not valid utf-8 at byte offset 9 \(line 2\); pass --encoding"),
    ("dup.csv", b"a,b,a\n1,2,3\n", "duplicate column names: 'a'"),
    ("notes.txt", b"hello\n", "unsupported file type '.txt'"),
    ("bad.jsonl", b'{"a": 1}\n{"a": 2\n', "line 2 is not valid JSON"),
    ("list.jsonl", b'{"a": 1}\n[1, 2]\n', "line 2 is JSON but not an object"),
    ("empty.jsonl", b"", "the file is empty"),
    ("junk.parquet", b"not parquet at all", "not a readable Parquet file"),
]


@pytest.mark.parametrize("name, content, match", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_refused_and_nothing_is_stored(project, tmp_path, name, content, match):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(WorkbenchError, match=match):
        import_dataset(project, str(path))
    assert Store.for_project(project).list_datasets() == []
    assert list(project.datasets_dir.rglob("*.parquet")) == []


def _db(tmp_path):
    db = tmp_path / "src.db"
    con = sqlite3.connect(db)
    con.execute("create table qa (question text, answer text, topic text)")
    con.executemany("insert into qa values (?,?,?)", [("q1", "a1", "x"), ("q2", "a2", "y")])
    con.commit()
    con.close()
    return db


@pytest.mark.parametrize("sql, match", [
    ("select * from nosuch", "the database refused the query: no such table: nosuch"),
    ("selec oops", "the database refused the query: near \"selec\""),
    ("select * from qa where 0", "the query returned no rows"),
])
def test_bad_sql(project, tmp_path, sql, match):
    with pytest.raises(WorkbenchError, match=match):
        import_dataset(project, url=f"sqlite:///{_db(tmp_path)}", sql=sql)
    assert Store.for_project(project).list_datasets() == []


def test_sql_import_leaves_source_untouched(project, tmp_path):
    db = _db(tmp_path)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    dv, created = import_dataset(project, url=f"sqlite:///{db}", sql="select * from qa", name="qa")
    assert created and dv.rows == 2
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_identical_reimport_returns_same_version(project, tmp_path, qa_frame):
    src = tmp_path / "qa.csv"
    qa_frame.to_csv(src, index=False)
    before = (src.read_bytes(), src.stat().st_mtime_ns)
    dv1, created1 = import_dataset(project, str(src))
    copy = tmp_path / "copy.jsonl"  # same content, other format
    qa_frame.to_json(copy, orient="records", lines=True)
    dv2, created2 = import_dataset(project, str(copy), name="qa")
    assert created1 and not created2
    assert dv1.version == dv2.version and dv1.content_hash == dv2.content_hash
    assert len(Store.for_project(project).list_datasets()) == 1
    assert (src.read_bytes(), src.stat().st_mtime_ns) == before  # source never modified
    stored = project.state / dv1.path
    assert not os.access(stored, os.W_OK) or os.geteuid() == 0
    assert oct(stored.stat().st_mode & 0o777) == "0o444"
    _, frame = load_frame(project, "qa")
    pd.testing.assert_frame_equal(frame, qa_frame, check_dtype=False)


def test_changed_content_is_a_new_version(project, tmp_path, qa_frame):
    src = tmp_path / "qa.csv"
    qa_frame.to_csv(src, index=False)
    dv1, _ = import_dataset(project, str(src))
    qa_frame.iloc[:3].to_csv(src, index=False)
    dv2, created = import_dataset(project, str(src))
    assert created and dv1.version != dv2.version
    assert load_frame(project, f"qa@{dv1.version}")[0].rows == 6
    assert load_frame(project, "qa")[0].rows == 3  # latest by default


@pytest.mark.parametrize("ref, match", [
    ("nope", "no dataset named 'nope'"),
    ("qa@ffffff", "dataset 'qa' has no version 'ffffff'; it has: "),
    ("qs", r"did you mean 'qa'\?"),
])
def test_unknown_dataset(project, tmp_path, qa_frame, ref, match):
    qa_frame.to_csv(tmp_path / "qa.csv", index=False)
    import_dataset(project, str(tmp_path / "qa.csv"))
    with pytest.raises(WorkbenchError, match=match):
        load_frame(project, ref)


def test_parquet_and_datasets_folder(project, tmp_path, qa_frame):
    from datasets import Dataset, DatasetDict

    qa_frame.to_parquet(tmp_path / "qa.parquet")
    dv, _ = import_dataset(project, str(tmp_path / "qa.parquet"))
    assert dv.rows == 6
    dd = DatasetDict({"train": Dataset.from_pandas(qa_frame.iloc[:4]),
                      "test": Dataset.from_pandas(qa_frame.iloc[4:])})
    dd.save_to_disk(str(tmp_path / "hf"))
    dv2, _ = import_dataset(project, str(tmp_path / "hf"), name="hf")
    assert dv2.rows == 6 and "split" in [c["name"] for c in dv2.columns]
    with pytest.raises(WorkbenchError, match="not one saved by datasets"):
        import_dataset(project, str(tmp_path))


@pytest.mark.parametrize("name, rows", [("imdb", 200), ("xsum", 1000), ("nq-open", None),
                                        ("boolq", None)])
def test_packaged_datasets(project, name, rows):
    dv, created = import_dataset(project, f"packaged:{name}")
    assert created and dv.name == name and dv.rows > 0
    if rows:
        assert dv.rows == rows


def test_unknown_packaged_dataset(project):
    with pytest.raises(WorkbenchError, match=r"unknown packaged dataset 'imbd' \(did you mean 'imdb'\?\)"):
        import_dataset(project, "packaged:imbd")


def test_cli_import_list_show_json(project, tmp_path, qa_frame):
    qa_frame.to_csv(tmp_path / "qa.csv", index=False)
    r = run_cli("data", "import", str(tmp_path / "qa.csv"), "--json", str(tmp_path / "o.json"))
    assert r.returncode == 0, r.stderr
    info = json.loads((tmp_path / "o.json").read_text())
    assert info["rows"] == 6 and info["created"] is True
    r = run_cli("data", "list", "--json", "-")
    assert r.returncode == 0
    assert json.loads(r.stdout)[0]["name"] == "qa"
    r = run_cli("data", "show", "qa", "--json", "-")
    shown = json.loads(r.stdout)
    assert shown["sample"][0]["question"] == "How do I reset my station?"


@pytest.mark.parametrize("args, match", [
    (["data", "import", "nope.csv"], "error: nope.csv: no such file or folder"),
    (["data", "show", "ghost"], "error: no dataset named 'ghost'"),
    (["data", "import", "--url", "sqlite:///x.db"], "error: a SQL import needs both --url and --sql"),
])
def test_cli_bad_input_exit_2_one_line(project, args, match):
    r = run_cli(*args, cwd=project.root)
    assert r.returncode == 2
    assert r.stderr.strip().startswith(match)
    assert len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr


def test_cli_debug_shows_traceback(project):
    r = run_cli("--debug", "data", "import", "nope.csv", cwd=project.root)
    assert r.returncode == 2 and "Traceback" in r.stderr


def test_init_refuses_existing_project(project):
    r = run_cli("init", str(project.root))
    assert r.returncode == 2 and "already a workbench project" in r.stderr
