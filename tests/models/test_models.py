from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import run_cli
from workbench.core.errors import WorkbenchError
from workbench.models import load_causal_lm, model_fingerprint, prepare_model


def test_tiny_gpt2_build_save_reload_generate(shared_project, tiny_model):
    import torch

    files = {p.name for p in tiny_model.iterdir()}
    assert "model.safetensors" in files and "tokenizer.json" in files
    assert not any(f.endswith((".bin", ".pt", ".pth", ".pkl")) for f in files)
    # prepared once: the second call is a cache hit on the same folder
    assert prepare_model(shared_project, "tiny:gpt2") == tiny_model
    model, tok, path = load_causal_lm(shared_project, "tiny:gpt2")
    assert path == tiny_model
    ids = tok("How do I reset my", return_tensors="pt")
    with torch.no_grad():
        a = model.generate(**ids, max_new_tokens=8, do_sample=False)
        b = model.generate(**ids, max_new_tokens=8, do_sample=False)
    assert a.shape[1] == ids["input_ids"].shape[1] + 8
    assert torch.equal(a, b)  # greedy is deterministic
    assert isinstance(tok.decode(a[0]), str)
    assert len(model_fingerprint(path)) == 16
    assert model_fingerprint(path) == model_fingerprint(path)


@pytest.mark.parametrize("spec, match", [
    ("packaged:smollm", r"unknown packaged model 'smollm' \(did you mean 'smollm2-135m-instruct'\?\)"),
    ("tiny:llama", "unknown tiny model 'llama'"),
    ("./no/such/folder", "no such folder"),
    ("run:12345", "no train run with id 12345"),
    ("gpt", "unknown model spec 'gpt'"),
    ("", "model spec is empty"),
])
def test_bad_model_specs(project, spec, match):
    with pytest.raises(WorkbenchError, match=match):
        prepare_model(project, spec)


def test_folder_without_config_is_refused(project, tmp_path):
    (tmp_path / "m").mkdir()
    with pytest.raises(WorkbenchError, match="not a Hugging Face model folder"):
        prepare_model(project, str(tmp_path / "m"))


def test_hub_id_offline_is_a_clear_error(project):
    with pytest.raises(WorkbenchError, match="the hub could not provide it"):
        prepare_model(project, "someone/not-cached-model")


def test_packaged_minilm_resolves_without_copy(project):
    path = prepare_model(project, "packaged:minilm-l6")
    assert (path / "model.safetensors").is_file() and "site-packages" in str(path)


def test_models_cli(project):
    r = run_cli("models", "list", "--json", "-")
    assert r.returncode == 0, r.stderr
    specs = {m["spec"] for m in json.loads(r.stdout)}
    assert {"packaged:smollm2-135m-instruct", "packaged:minilm-l6", "tiny:gpt2"} <= specs
    r = run_cli("models", "prepare", "tiny:gpt9")
    assert r.returncode == 2 and "unknown tiny model 'gpt9'" in r.stderr


@pytest.mark.slow
def test_packaged_smollm2_converts_to_safetensors(shared_project):
    """The real 135M model: GGUF -> safetensors once, then an ordinary HF folder."""
    import torch

    model, tok, path = load_causal_lm(shared_project, "packaged:smollm2-135m-instruct")
    assert (path / "model.safetensors").is_file()
    assert not list(path.glob("*.bin"))
    msgs = [{"role": "user", "content": "What is the capital of France?"}]
    ids = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt",
                                  return_dict=True)
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=12, do_sample=False)
    answer = tok.decode(out[0][ids["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "Paris" in answer


def test_transformers_names_resolve_from_many_threads_at_once():
    """transformers 5.x resolves names lazily and two threads doing it at once can fail
    ("cannot import name ... from 'transformers'"), as the app's background evaluation did
    once in CI. Every name workbench takes goes through one lock: 16 threads asking for
    the names in different orders together all get them (plain getattr fails about 2 runs
    in 3 here). Run in a fresh interpreter, where nothing is
    resolved yet."""
    code = (
        "import threading\n"
        "from workbench.models._hf import hf\n"
        "names = ('AutoModelForCausalLM', 'AutoTokenizer', 'GenerationConfig',"
        " 'LogitsProcessorList', 'AutoModel', 'AutoConfig')\n"
        "start, errors = threading.Barrier(16), []\n"
        "def work(i):\n"
        "    start.wait()\n"
        "    try:\n"
        "        for n in names[i % 6:] + names[:i % 6]:\n"
        "            assert hf(n) is not None\n"
        "    except Exception as exc:\n"
        "        errors.append(repr(exc))\n"
        "threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print('errors', errors)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("errors []"), out.stdout
