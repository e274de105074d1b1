from __future__ import annotations

import hashlib
import json
import os
import sqlite3

import pandas as pd
import pytest

from tests.conftest import run_cli
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
    ("latin.csv", b"a,b\n1,caf\xe9\n", r"not valid utf-8 at byte offset 9 \(line 2\); if the file uses another "
     r"encoding"),
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
    (["data", "import", "--url", "sqlite:///x.db"],
     "error: --sql: a SQL import needs both a database URL and a SELECT query"),
    (["data", "import", "--sql", "SELECT 1"],
     "error: --url: a SQL import needs both a database URL and a SELECT query"),
    (["data", "import"], "error: SOURCE: give a file, a datasets folder or packaged:NAME to import"),
    (["data", "import", "x.csv", "--sql", "SELECT 1"],
     "error: give either a file to import or a database URL and SQL query, not both"),
])
def test_cli_bad_input_exit_2_one_line(project, args, match):
    r = run_cli(*args, cwd=project.root)
    assert r.returncode == 2
    assert r.stderr.strip().startswith(match)
    assert len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr


def test_a_damaged_stored_copy_is_one_line_not_an_internal_error(project, tmp_path, qa_frame):
    qa_frame.to_csv(tmp_path / "qa.csv", index=False)
    assert run_cli("data", "import", str(tmp_path / "qa.csv"), cwd=project.root).returncode == 0
    from workbench.data import get_version

    stored = project.state / get_version(project, "qa").path
    stored.write_bytes(b"not parquet any more")
    suite = tmp_path / "s.yaml"
    suite.write_text("expectations:\n  - {type: expect_column_values_to_not_be_null, "
                     "column: question}\n")
    for args in (["data", "show", "qa"], ["check", "qa", "--suite", str(suite)]):
        r = run_cli(*args, cwd=project.root)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.strip().splitlines() == [
            r.stderr.strip()] and r.stderr.startswith("error: dataset qa@"), r.stderr
        assert f"its stored copy {stored} is damaged and cannot be read (" in r.stderr


def test_cli_debug_shows_traceback(project):
    r = run_cli("--debug", "data", "import", "nope.csv", cwd=project.root)
    assert r.returncode == 2 and "Traceback" in r.stderr


def test_init_refuses_existing_project(project):
    r = run_cli("init", str(project.root))
    assert r.returncode == 2 and "already a workbench project" in r.stderr


# ----------------------------------------------------------------- conversations
CHAT_ROWS = [
    {"id": "c0", "n": 1, "messages": [
        {"role": "system", "content": "You are a helpful support agent."},
        {"role": "user", "content": "Where is my order?"},
        {"role": "assistant", "content": "It ships today."}]},
    {"id": "c1", "n": 2, "messages": [
        {"role": "user", "content": "Hi, I am Zoë.", "name": "zoe"},
        {"role": "assistant", "content": "Hello Zoë! How can I help?", "weight": 0},
        {"role": "user", "content": "Reset my station?"},
        {"role": "assistant", "content": "Hold the button for 10 s.", "weight": 1}]},
    {"id": "c2", "n": 3, "messages": [
        {"role": "user", "content": "Can I pay by card?"},
        {"role": "assistant", "content": ""}]},  # malformed (empty) but storable
]


def _chat_jsonl(path, rows=CHAT_ROWS):
    # the spacing of json.dumps, as OpenAI's and most Python tools' files have it
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def test_messages_import_as_structure_from_every_format(project, tmp_path):
    """JSONL, Parquet, a datasets folder and CSV JSON text give the same stored version."""
    import pyarrow.parquet as pq
    from datasets import Dataset

    from workbench.data import sample, schema

    dv, created = import_dataset(project, str(_chat_jsonl(tmp_path / "chat.jsonl")))
    assert created
    assert [(c["name"], c["dtype"]) for c in dv.columns] == [
        ("id", "string"), ("n", "int64"), ("messages", "messages")]
    _, frame = load_frame(project, "chat")
    assert frame["messages"].tolist() == [r["messages"] for r in CHAT_ROWS]  # no null keys
    assert type(frame["messages"][1][1]["weight"]) is int  # not 1.0 after Parquet
    assert sample(frame, 2)[1]["messages"] == CHAT_ROWS[1]["messages"]
    assert schema(frame)[2] == {"name": "messages", "dtype": "messages", "nulls": 0}
    stored = pq.read_schema(project.state / dv.path).field("messages").type
    assert str(stored).startswith("list<") and "struct<role: string, content: string" \
        in str(stored)

    pd.DataFrame(CHAT_ROWS).to_parquet(tmp_path / "chat.parquet")
    Dataset.from_list(CHAT_ROWS).save_to_disk(str(tmp_path / "hf"))
    csv_frame = pd.DataFrame(CHAT_ROWS)
    csv_frame["messages"] = csv_frame["messages"].map(json.dumps)
    csv_frame.to_csv(tmp_path / "chat.csv", index=False)
    for src in ("chat.parquet", "hf", "chat.csv"):
        again, created = import_dataset(project, str(tmp_path / src), name="chat")
        assert not created and again.content_hash == dv.content_hash, src
    assert len(Store.for_project(project).list_datasets()) == 1


def test_prompt_completion_columns(project, tmp_path):
    """Plain prompt/completion strings stay text; conversational ones (TRL's
    prompt-completion format) are conversations."""
    plain = [{"prompt": "Where is my order?", "completion": "It ships today."}]
    dv, _ = import_dataset(project, str(_chat_jsonl(tmp_path / "pc.jsonl", plain)))
    assert [c["dtype"] for c in dv.columns] == ["string", "string"]
    conv = [{"prompt": [{"role": "user", "content": "Where is my order?"}],
             "completion": [{"role": "assistant", "content": "It ships today."}]}]
    dv, _ = import_dataset(project, str(_chat_jsonl(tmp_path / "pcc.jsonl", conv)))
    assert [c["dtype"] for c in dv.columns] == ["messages", "messages"]
    assert load_frame(project, "pcc")[1]["completion"][0] == conv[0]["completion"]


def test_conversation_hash_is_stable_across_runs_and_by_content(tmp_path):
    import subprocess
    import sys

    from workbench.data import content_hash

    frame = pd.DataFrame(CHAT_ROWS)
    code = ("import json, sys, pandas as pd; from workbench.data import content_hash; "
            f"print(content_hash(pd.DataFrame(json.load(open({str(tmp_path / 'r.json')!r})))))")
    (tmp_path / "r.json").write_text(json.dumps(CHAT_ROWS))
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip()
            for seed in ("1", "2")}
    assert runs == {content_hash(frame)}
    reordered = frame.copy()
    reordered["messages"] = [[dict(reversed(list(t.items()))) for t in m]
                             for m in frame["messages"]]
    assert content_hash(reordered) == content_hash(frame)
    changed = frame.copy()
    changed["messages"] = [m[:-1] for m in frame["messages"]]
    assert content_hash(changed) != content_hash(frame)


BAD_CHAT = [
    ('{"messages": [{"role": "user", "content": "a"}]}\n{"messages": "hello"}\n',
     r"bad.jsonl: column 'messages', row 1 \(line 2\): expected a list of \{role, content\} "
     r"turns, got text 'hello'$"),
    ('{"messages": [{"role": "user", "content": "a"}]}\n\n'
     '{"messages": [{"role": "user", "content": "a"}, "hi"]}\n',
     r"bad.jsonl: column 'messages', row 1 \(line 3\), turn 1: expected an object with "
     r"'role' and 'content', got text 'hi'$"),
    ('{"messages": [{"role": "user", "content": 5}]}\n',
     r"column 'messages', row 0 \(line 1\), turn 0: 'content' must be text, got int$"),
    ('{"messages": [{"role": "user", "content": "a"}]}\n{"messages": {"role": "user"}}\n',
     r"row 1 \(line 2\): expected a list of \{role, content\} turns, got an object$"),
]


@pytest.mark.parametrize("text,match", BAD_CHAT, ids=range(len(BAD_CHAT)))
def test_bad_messages_name_row_line_and_turn(project, tmp_path, text, match):
    (tmp_path / "bad.jsonl").write_text(text)
    with pytest.raises(WorkbenchError, match=match):
        import_dataset(project, str(tmp_path / "bad.jsonl"))
    assert Store.for_project(project).list_datasets() == []


def test_export_jsonl_gives_back_the_imported_file_byte_for_byte(project, tmp_path):
    from workbench.data import export_version

    src = _chat_jsonl(tmp_path / "chat.jsonl")
    import_dataset(project, str(src))
    out = export_version(project, "chat", tmp_path / "out.jsonl")
    assert out.read_bytes() == src.read_bytes()  # byte for byte: same spacing, key order


def test_export_jsonl_other_spacing_gives_parsed_equal_conversations(project, tmp_path):
    """A file written with other spacing, key order or escapes comes back parsed-equal
    (json.dumps spacing, role and content first, UTF-8)."""
    from workbench.data import export_version

    src = tmp_path / "chat.jsonl"
    src.write_text("".join(json.dumps({"messages": [dict(reversed(list(t.items())))
                                                    for t in r["messages"]], "id": r["id"]},
                                      separators=(",", ":")) + "\n" for r in CHAT_ROWS))
    import_dataset(project, str(src))
    out = export_version(project, "chat", tmp_path / "out.jsonl")
    assert out.read_bytes() != src.read_bytes()
    back = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert back == [{"messages": r["messages"], "id": r["id"]} for r in CHAT_ROWS]
    assert "Zoë" in out.read_text(encoding="utf-8")


def test_exported_jsonl_loads_with_datasets(project, tmp_path, monkeypatch):
    from datasets import load_dataset

    from workbench.data import export_version

    import_dataset(project, str(_chat_jsonl(tmp_path / "chat.jsonl")))
    out = export_version(project, "chat", tmp_path / "out.jsonl")
    ds = load_dataset("json", data_files=str(out), split="train",
                      cache_dir=str(tmp_path / "cache"))
    assert [m[-1]["content"] for m in ds["messages"]] == [r["messages"][-1]["content"]
                                                          for r in CHAT_ROWS]


@pytest.mark.parametrize("out,fmt", [("x.parquet", "parquet"), ("x.pq", None), ("ds", None),
                                     ("x.csv", "csv"), ("x.ndjson", None),
                                     ("x.data", "parquet")])
def test_export_round_trips_every_format(project, tmp_path, out, fmt):
    from workbench.data import export_version

    dv, _ = import_dataset(project, str(_chat_jsonl(tmp_path / "chat.jsonl")))
    path = export_version(project, dv.ref, tmp_path / out, format=fmt)
    assert path == tmp_path / out and path.exists()
    if path.suffix == ".data":  # import chooses its reader by the extension
        path = path.rename(tmp_path / "x2.parquet")
    again, created = import_dataset(project, str(path), name="chat")
    assert not created and again.content_hash == dv.content_hash


def test_export_datasets_folder_keeps_splits(project, tmp_path):
    from datasets import Dataset, DatasetDict, load_from_disk

    from workbench.data import export_version

    DatasetDict({"train": Dataset.from_list(CHAT_ROWS[:2]),
                 "test": Dataset.from_list(CHAT_ROWS[2:])}).save_to_disk(str(tmp_path / "hf"))
    dv, _ = import_dataset(project, str(tmp_path / "hf"), name="chat")
    export_version(project, dv.ref, tmp_path / "out", format="datasets")
    back = load_from_disk(str(tmp_path / "out"))
    assert list(back) == ["train", "test"] and back["test"].num_rows == 1
    assert back["train"][1]["messages"][0]["name"] == "zoe"
    again, created = import_dataset(project, str(tmp_path / "out"), name="chat")
    assert not created and again.content_hash == dv.content_hash


@pytest.mark.parametrize("out,kwargs,setup,match", [
    ("x.txt", {}, None, r"^format: \S+x.txt has an unknown export file type '.txt'; use .csv, "
                        r".jsonl, .ndjson, .parquet, .pq, a path without an extension for a "
                        r"datasets folder, or set this to one of csv, jsonl, parquet, datasets$"),
    ("x.jsonl", {"format": "xlsx"}, None, r"^format: 'xlsx' is not an export format; use "
                                          r"csv, jsonl, parquet, datasets$"),
    ("x.jsonl", {"format": "json"}, None, r"format: 'json' is not an export format \(did you "
                                          r"mean 'jsonl'\?\)"),
    ("x.jsonl", {}, "file", r"^force: \S+x.jsonl already exists; set this to overwrite it$"),
    ("x.jsonl", {"force": True}, "dir", r"x.jsonl: is a folder; give a file path for jsonl$"),
    ("ds", {"force": True}, "dir", r"ds: a folder that is not a saved dataset; refusing to "
                                   r"replace it$"),
    ("ds", {"format": "datasets", "force": True}, "file", r"ds: is a file; a datasets export "
                                                          r"writes a folder$"),
    ("x.jsonl/y.jsonl", {}, "file", r"x.jsonl: is a file, not a folder to export into$"),
])
def test_bad_exports_are_one_line_and_write_nothing(project, tmp_path, out, kwargs, setup,
                                                    match):
    from workbench.data import export_version

    import_dataset(project, str(_chat_jsonl(tmp_path / "chat.jsonl")))
    target = tmp_path / "o" / out
    (tmp_path / "o").mkdir()
    if setup == "file" and target.parent.name == "x.jsonl":
        target.parent.write_text("keep me")
    elif setup == "file":
        target.write_text("keep me")
    elif setup == "dir":
        target.mkdir()
        (target / "mine.txt").write_text("keep me")
    before = sorted(str(p) for p in (tmp_path / "o").rglob("*"))
    with pytest.raises(WorkbenchError, match=match):
        export_version(project, "chat", target, **kwargs)
    assert sorted(str(p) for p in (tmp_path / "o").rglob("*")) == before


def test_export_force_replaces_a_file_and_a_saved_dataset(project, tmp_path):
    from workbench.data import export_version

    import_dataset(project, str(_chat_jsonl(tmp_path / "chat.jsonl")))
    (tmp_path / "x.jsonl").write_text("old\n")
    export_version(project, "chat", tmp_path / "x.jsonl", force=True)
    assert json.loads((tmp_path / "x.jsonl").read_text().splitlines()[0])["id"] == "c0"
    export_version(project, "chat", tmp_path / "ds")
    export_version(project, "chat", tmp_path / "ds", force=True)
    assert (tmp_path / "ds" / "dataset_info.json").exists()
    export_version(project, "chat", tmp_path / "new" / "dir" / "x.csv")  # parents are made
    assert (tmp_path / "new" / "dir" / "x.csv").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left


@pytest.mark.slow
def test_cli_export_and_show_conversations(project, tmp_path):
    src = _chat_jsonl(tmp_path / "chat.jsonl")
    r = run_cli("data", "import", str(src), cwd=project.root)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1:] == ["note: column 'messages' holds conversations"]
    texts = tmp_path / "sms.jsonl"
    texts.write_text('{"messages": "see you at 5"}\n{"messages": "ok"}\n')
    r = run_cli("data", "import", str(texts), cwd=project.root)
    assert r.returncode == 0 and r.stdout.splitlines()[1:] == [
        "note: column 'messages' holds text, not conversations (a list of {role, content} "
        "turns per row): it is stored as text"], r.stdout + r.stderr
    r = run_cli("data", "export", "chat", str(tmp_path / "out.jsonl"), "--json",
                str(tmp_path / "e.json"), cwd=project.root)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("exported chat@") and r.stdout.rstrip().endswith("(jsonl)")
    info = json.loads((tmp_path / "e.json").read_text())
    assert info["format"] == "jsonl" and info["rows"] == 3 and info["dataset"].startswith("chat@")
    assert (tmp_path / "out.jsonl").read_bytes() == src.read_bytes()
    r = run_cli("data", "export", "chat", str(tmp_path / "out.jsonl"), cwd=project.root)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f"error: --force: {tmp_path / 'out.jsonl'} already exists; set this to overwrite it"]
    r = run_cli("data", "export", "chat", str(tmp_path / "o.txt"), cwd=project.root)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        f"error: --format: {tmp_path / 'o.txt'} has an unknown export file type '.txt'; use "
        ".csv, .jsonl, .ndjson, .parquet, .pq, a path without an extension for a datasets "
        "folder, or set this to one of csv, jsonl, parquet, datasets"]
    r = run_cli("data", "export", "chat", str(tmp_path / "o.csv"), "--format", "xlsx",
                cwd=project.root)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "error: --format: 'xlsx' is not an export format; use csv, jsonl, parquet, datasets"]
    r = run_cli("data", "export", "chat", str(tmp_path / "out.jsonl"), "--force", "--format",
                "parquet", "--json", "-", cwd=project.root)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["format"] == "parquet"
    assert pd.read_parquet(tmp_path / "out.jsonl").shape == (3, 3)
    r = run_cli("data", "show", "chat", "--json", "-", cwd=project.root)
    shown = json.loads(r.stdout)
    assert shown["columns"][2]["dtype"] == "messages"
    assert shown["sample"][1]["messages"] == CHAT_ROWS[1]["messages"]
    first = CHAT_ROWS[0]["messages"][0]
    assert f"{first['role']}: {first['content'][:10]}" in r.stderr  # turns, not a list's repr
    assert "[{'role'" not in r.stderr


@pytest.mark.parametrize("fmt", ["parquet", "datasets"])
def test_untouched_parquet_and_datasets_sources_export_the_same_conversations(
        project, tmp_path, fmt):
    """Import then export (same format) gives back the same conversations, extra keys
    included and no null keys added."""
    from datasets import Dataset, load_from_disk

    from workbench.data import export_version

    if fmt == "parquet":
        src = tmp_path / "chat.parquet"
        pd.DataFrame(CHAT_ROWS).to_parquet(src)
        out = tmp_path / "out.parquet"
    else:
        src = tmp_path / "hf"
        Dataset.from_list(CHAT_ROWS).save_to_disk(str(src))
        out = tmp_path / "out_hf"
    dv, _ = import_dataset(project, str(src), name="chat")
    export_version(project, dv.ref, out)
    if fmt == "parquet":
        back = pd.read_parquet(out)["messages"].tolist()
        back = [[{k: v for k, v in t.items() if v is not None} for t in m] for m in back]
    else:
        ds = load_from_disk(str(out))
        ds = ds["train"] if hasattr(ds, "keys") else ds
        back = [[{k: v for k, v in t.items() if v is not None} for t in m]
                for m in ds["messages"]]
    assert back == [r["messages"] for r in CHAT_ROWS]
    again, created = import_dataset(project, str(out), name="chat")
    assert not created and again.content_hash == dv.content_hash
