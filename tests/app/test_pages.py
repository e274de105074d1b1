"""Every page runs under AppTest on a project with data: no exception, key widgets present."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def plain(markdown: str) -> str:
    """What the reader sees of escaped Markdown (the app escapes untrusted text)."""
    text = re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")
    return html.unescape(text).replace("  \n", "\n")


PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_"))


@pytest.fixture
def app_project(project, qa_frame, tmp_path, monkeypatch):
    from workbench.data import import_dataset

    qa_frame.to_csv(tmp_path / "qa.csv", index=False)
    import_dataset(project, str(tmp_path / "qa.csv"))
    monkeypatch.chdir(ROOT)
    return project


def _run(page: str):
    """Run the real app entry point, then switch to ``page`` as the navigation would."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    if page != "home.py":
        at.switch_page(f"pages/{page}")
        at.run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_page_runs(app_project, page):
    at = _run(page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title and at.caption  # title + one-line purpose


def test_app_navigation_lists_lifecycle_in_order():
    text = (ROOT / "app.py").read_text()
    order = ["Home", "Data", "Data quality", "Splits", "Train", "Evaluate", "Bias probes",
             "Review", "Reports"]
    positions = [text.index(f'title="{t}"') for t in order]
    assert positions == sorted(positions)


def test_home_shows_datasets_and_imports_with_errors(app_project, tmp_path):
    at = _run("home.py")
    assert any("qa" in str(df.value["name"].tolist()) for df in at.dataframe)
    root = app_project.root
    (root / "ragged.csv").write_text("a,b\n1,2\n3,4,5\n")
    at.text_input(key="import_path").input(str(root / "ragged.csv"))
    at.button[0].click().run()
    assert [plain(e.value) for e in at.error] == [f"{root / 'ragged.csv'}: line 3 has 3 fields, "
                                                  "the header has 2"]
    # a file outside the project is refused unless the project allows its folder
    (tmp_path / "new.csv").write_text("x,y\n1,2\n")
    at.text_input(key="import_path").input(str(tmp_path / "new.csv"))
    at.button[0].click().run()
    assert "outside the project" in plain(at.error[0].value)
    with app_project.config_path.open("a") as fh:
        fh.write(f"app:\n  read_folders: [{tmp_path}]\n")
    at.text_input(key="import_path").input(str(tmp_path / "new.csv"))
    at.button[0].click().run()
    assert not at.error
    assert "Imported new@" in at.success[0].value


def test_upload_names_never_escape(project):
    from workbench.data import save_upload

    path, safe = save_upload(project, "../../etc/evil.csv", b"a\n1\n")
    assert path.parent == project.uploads_dir and path.suffix == ".csv"
    assert safe == "evil.csv"
    from workbench.core.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match="unsupported file type '.sh'"):
        save_upload(project, "x.sh", b"rm -rf /")


def _eval_runs(project, tmp_path):
    import pandas as pd

    from workbench.evaluation import evaluate_predictions

    refs = ["Hold the button.", "It ships today.", "Light rain.", "Use a card."] * 3
    runs = []
    for name, preds in (("base", ["No idea."] * 12), ("tuned", refs[:-1] + ["<script>x</script>"])):
        pd.DataFrame({"id": range(12), "prediction": preds, "reference": refs,
                      "topic": ["a", "b"] * 6}).to_csv(tmp_path / f"{name}.csv", index=False)
        runs.append(evaluate_predictions(project, tmp_path / f"{name}.csv", slices=["topic"]))
    return runs


@pytest.mark.slow
def test_evaluate_page_shows_results_and_compares(app_project, tmp_path):
    base, tuned = _eval_runs(app_project, tmp_path)
    at = _run("evaluate.py")
    assert not at.exception, [e.value for e in at.exception]
    metrics = at.dataframe[0].value
    assert metrics["metric"].tolist() == ["bleu", "rouge1", "rouge2", "rougeL", "rougeLsum"]
    assert metrics["95% low"].notna().all()
    assert any(plain(w.value).startswith("2 slices have fewer than 30 examples")
               for w in at.warning)
    charts = lambda: len(at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart"))  # noqa: E731
    assert charts() == 1  # the slices with their intervals
    assert at.selectbox(key="cmp_a").value == base.run_id
    from workbench import review

    review.record_verdict(app_project, run_a=base.run_id, run_b=tuned.run_id, item="0",
                          verdict="b_better", reviewer="ana")
    at.button(key="cmp_go").click().run()
    assert any(plain(i.value).startswith("Human review: 1 items by ana: A better 0, B better 1")
               for i in at.info)
    assert not at.exception, [e.value for e in at.exception]
    assert charts() == 3  # + B - A for BLEU and for the 0-1 metrics
    from workbench.core.store import Store

    reports = Store.for_project(app_project).list_reports("compare")
    assert len(reports) == 1 and Path(reports[0]["path"]).is_file()
    diffs = at.dataframe[-2].value
    assert diffs.set_index("metric").loc["rougeL", "verdict"] == "B better"
    side = at.dataframe[-1].value
    assert {"a", "b", "delta"} <= set(side.columns)


@pytest.mark.slow
def test_evaluate_page_runs_a_model_in_the_background(app_project):
    import time

    at = _run("evaluate.py")
    assert "No evaluations yet" in " ".join(i.value for i in at.info)
    at.selectbox(key="eval_model").set_value("tiny:gpt2")
    at.number_input(key="eval_max_new").set_value(4)
    at.checkbox(key="eval_chat").uncheck()  # tiny:gpt2 has no chat template
    at.button[0].click().run()
    deadline = time.time() + 240
    while time.time() < deadline and not at.success:
        time.sleep(2)
        at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Evaluation finished: run" in plain(at.success[0].value)
    from workbench.core.store import Store

    assert [r["kind"] for r in Store.for_project(app_project).list_reports()] == ["evaluate"]
    assert at.dataframe[0].value["metric"].tolist()[0] == "bleu"  # exact match not asked for


def test_before_after_pickers_default_to_base_and_fine_tuned(app_project):
    """Review and Evaluate preselect A = the base model's run and B = the fine-tuned
    run:ID's run on the same data, whatever order they were made in."""
    import json

    from workbench.core.store import Store

    store = Store.for_project(app_project)
    with store.record("train", config={"model": "packaged:base"}) as out:
        train = out["run_id"]

    def evaluated(model: str, data: str) -> int:
        with store.record("evaluate", name=model, config={"model": model, "data": data}) as o:
            path = app_project.runs_dir / str(o["run_id"]) / "examples.jsonl"
            path.parent.mkdir(parents=True)
            path.write_text("".join(json.dumps({"id": str(i), "prompt": f"q{i}",
                                                "prediction": f"{model} {i}"}) + "\n"
                                    for i in range(3)))
            o["examples"] = str(path)
        return o["run_id"]

    tuned = evaluated(f"run:{train}", "split:1:test")
    base = evaluated("packaged:base", "split:1:test")
    evaluated("packaged:base", "other-data")  # the newest, but not on the same data
    evaluated("tiny:gpt2", "split:1:test")
    at = _run("review.py")
    assert not at.exception, [e.value for e in at.exception]
    assert (at.selectbox(key="run_a").value, at.selectbox(key="run_b").value) == (base, tuned)


# ------------------------------------------------------------------ thin pages (issue 13.5)
MAX_PAGE_LINES = 80


def _page_imports(path: Path) -> list[str]:
    import ast

    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names
                      if node.module.startswith("workbench")]
    return names


@pytest.mark.parametrize("page", PAGES)
def test_pages_are_thin_and_use_the_public_library(page):
    """Widgets, layout and caching only: at most 80 non-blank lines, and nothing private
    of the library (logic a CLI user could want lives in the stage packages)."""
    path = ROOT / "pages" / page
    lines = [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert len(lines) <= MAX_PAGE_LINES, f"{page}: {len(lines)} non-blank lines"
    private = [n for n in _page_imports(path) if n.startswith("workbench")
               and any(part.startswith("_") for part in n.split("."))]
    assert not private, f"{page} imports private modules: {private}"
    assert "write_text(" not in path.read_text() and "yaml" not in _page_imports(path)


def test_every_page_header_names_its_project(app_project):
    for page in PAGES:
        at = _run(page)
        assert any(f"Project **{app_project.name}**" in plain(c.value) for c in at.caption), page


# ------------------------------------------------------- untrusted text as text (issue 14.7)
def _html(markdown: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").render(markdown)


@pytest.mark.parametrize("text", ["[x](https://evil.example)", "**bold** _it_ `code`",
                                  "<script>alert(1)</script>", "# heading", ":red[colour]",
                                  "![img](https://evil.example/a.png)", "a\\[b\\]",
                                  "$x^2$ | table | ~~strike~~", "see https://evil.example",
                                  "mail a@evil.example", "www.evil.example"])
def test_escaped_text_renders_as_itself(text):
    """What the one escaping helper returns renders as the same characters, no markup."""
    esc = _ui_function("esc")
    rendered = _html(esc(text))
    assert "<a " not in rendered and "<img" not in rendered and "<strong>" not in rendered
    assert "<script>" not in rendered and "<h1>" not in rendered and "<em>" not in rendered
    shown = html.unescape(rendered.replace("<p>", "").replace("</p>", "")).strip()
    assert shown.replace("\u2060", "") == text  # an invisible word joiner at most
    # Streamlit links bare URLs, www. names and addresses in text: none survive escaping
    assert not re.search(r"https?:/|@[\w]|www\.", shown)


def _ui_function(name: str):
    """A function of pages/_ui.py (loaded without running its Streamlit set-up)."""
    import ast

    tree = ast.parse((ROOT / "pages" / "_ui.py").read_text(encoding="utf-8"))
    keep = [n for n in tree.body if isinstance(n, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id.startswith(("_MD", "WORD_")) for t in n.targets)
        or isinstance(n, ast.FunctionDef) and n.name == name]
    ns: dict = {"re": re}
    exec(compile(ast.Module(keep, type_ignores=[]), "pages/_ui.py", "exec"), ns)  # noqa: S102
    return ns[name]


def test_reviewer_named_like_a_link_shows_as_text(project, monkeypatch):
    """A reviewer named [x](https://evil.example) is stored as typed and shown as that text,
    never as a link; column names and outputs are escaped the same way."""
    from streamlit.testing.v1 import AppTest

    from tests.review.test_review import make_run

    rows = [{"id": str(i), "prompt": f"q{i}", "prediction": p, "reference": "r",
             "[topic](https://evil.example)": "t"} for i, p in enumerate(["a", "b"])]
    base = make_run(project, "evaluate", rows, "base")
    make_run(project, "evaluate", [dict(r, prediction=r["prediction"] + " more") for r in rows],
             "[tuned](https://evil.example)")
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/review.py").run()
    assert not at.exception, [e.value for e in at.exception]
    name = "[x](https://evil.example)"
    at.text_input(key="reviewer").input(name).run()
    at.button(key="verdict_b_better").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = at.success[0].value
    assert name in plain(shown) and "<a " not in _html(shown)
    for element in [*at.caption, *at.markdown, *at.info, *at.warning]:
        assert "evil.example\"" not in _html(element.value), element.value
    from workbench import review

    table = review.verdicts(project, base, base + 1)
    assert table["reviewer"].tolist() == [name]  # stored as typed


# ------------------------------------------------------------- uploads keep their own name
def test_upload_keeps_its_name_and_errors_never_show_the_upload_path(project):
    from workbench.core.errors import WorkbenchError
    from workbench.data import import_upload

    dv, created = import_upload(project, "support.csv", b"q,a\nhi,there\n")
    assert created and dv.name == "support" and dv.source == "support.csv (uploaded)"
    with pytest.raises(WorkbenchError) as info:
        import_upload(project, "bad.csv", b"q,a\nhi,there\nSECRET-TOKEN,1,2\n")
    msg = str(info.value)
    assert msg == "bad.csv: line 3 has 3 fields, the header has 2"
    assert str(project.uploads_dir) not in msg and "SECRET" not in msg
    assert not [p for p in project.uploads_dir.iterdir() if p.stat().st_size == 31]
    # a name with spaces and brackets stays itself as the source (not my_file_v2_.csv)
    dv, _ = import_upload(project, "C:\\Users\\me\\my file (v2).csv", b"q,a\nyo,there\n")
    assert (dv.name, dv.source) == ("my_file_v2", "my file (v2).csv (uploaded)")
    with pytest.raises(WorkbenchError) as info:
        import_upload(project, "my bad (v2).csv", b"q,a\nhi,there\nSECRET-TOKEN,1,2\n")
    assert str(info.value) == "my bad (v2).csv: line 3 has 3 fields, the header has 2"


@pytest.mark.parametrize("content, expected", [
    (b"q,a\nhi,there\nSECRET-TOKEN,1,2\n", "bad.csv: line 3 has 3 fields, the header has 2"),
    (b'{"q": "hi"}\n{"q": SECRET-TOKEN}\n', "bad.jsonl: line 2 is not valid JSON: "
                                           "Expecting value"),
    (b"q,a\n\xffSECRET,1\n", "bad.csv: bytes that are not valid utf-8 at byte offset 4"),
])
def test_a_parse_error_never_echoes_the_file(project, content, expected):
    from workbench.core.errors import WorkbenchError
    from workbench.data import import_upload

    ext = ".jsonl" if expected.startswith("bad.jsonl") else ".csv"
    with pytest.raises(WorkbenchError) as info:
        import_upload(project, f"bad{ext}", content)
    assert str(info.value).startswith(expected) and "SECRET" not in str(info.value)


@pytest.mark.parametrize("path, ok", [("data/a.csv", True), ("../outside.csv", False),
                                      ("/etc/passwd", False), ("packaged:imdb", True)])
def test_the_app_reads_only_inside_the_project(project, path, ok):
    from workbench.core.access import app_path
    from workbench.core.errors import ConfigError

    if ok:
        app_path(project, path)
    else:
        with pytest.raises(ConfigError, match="outside the project; the app reads files only "
                                              "inside the project"):
            app_path(project, path)


@pytest.mark.slow
def test_data_page_shows_conversations_as_chat_turns_and_downloads_them(project, tmp_path,
                                                                        monkeypatch):
    """Conversations show as chat turns, every role, content and extra key (``name``) as
    text; the download is the file ``workbench data export`` writes."""
    import json

    from tests.conftest import run_cli

    from workbench.data import export_bytes, import_dataset

    rows = [{"id": "a", "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi **there**", "name": "[x](https://evil.example)"},
                {"role": "assistant", "content": "<b>Hello</b>", "weight": 0}]},
            {"id": "b", "messages": [{"role": "user", "content": "Second?"},
                                     {"role": "assistant", "content": "Yes."}]}]
    src = tmp_path / "chat.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    dv, _ = import_dataset(project, str(src), name="chat")
    monkeypatch.chdir(ROOT)
    at = _run("data.py")
    assert not at.exception, [e.value for e in at.exception]
    chats = at.get("chat_message")
    assert [c.proto.name for c in chats] == ["system", "user", "assistant"]
    captions = [plain(c.value) for c in at.caption]
    assert "user · name: [x](https://evil.example)" in captions  # text, not a link
    assert "assistant · weight: 0" in captions
    texts = [t.value for t in at.text]
    assert texts[-3:] == ["Be brief.", "Hi **there**", "<b>Hello</b>"]  # as text, never markup
    sample = at.dataframe[-1].value
    assert sample["messages"].iloc[1] == "user: Second? | assistant: Yes."
    at.number_input(key="chat_row").set_value(2).run()
    assert [c.proto.name for c in at.get("chat_message")] == ["user", "assistant"]
    assert [t.value for t in at.text][-2:] == ["Second?", "Yes."]
    # the download is byte for byte what `workbench data export` writes
    for fmt in ("jsonl", "csv", "parquet"):
        out = tmp_path / f"out.{fmt}"
        proc = run_cli("data", "export", "chat", str(out), cwd=project.root)
        assert proc.returncode == 0, proc.stderr
        data = export_bytes(project, dv.ref, fmt)
        if fmt == "parquet":  # the same table (the file's bytes carry no timestamps either)
            import io

            import pandas as pd

            pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(io.BytesIO(data)))
        else:
            assert data == out.read_bytes()
    assert export_bytes(project, dv.ref, "jsonl") == src.read_bytes()  # as it came in
    assert [b.proto.label for b in at.get("download_button")] == [
        f"Download chat-{dv.version}.csv"]


def test_train_page_survives_a_new_run_appearing_above_the_chosen_one(app_project):
    """The run picker is drawn once: a run that finishes after one was chosen (the newest
    sits first) used to draw the 'Show a run' box twice (a duplicate-key exception)."""
    from workbench.core.store import Store

    store = Store.for_project(app_project)
    old = store.start_run("train", name="first", config={"model": "tiny:gpt2"})
    store.finish_run(old, outputs={})
    at = _run("train.py")
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="show_run").value == old
    new = store.start_run("train", name="second", config={"model": "tiny:gpt2"})
    store.finish_run(new, outputs={})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="show_run").value == old
    assert len([s for s in at.selectbox if s.key == "show_run"]) == 1
