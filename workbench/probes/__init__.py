"""Bias probes: demographic prompt sets, scorers, group statistics, before/after reports.

Public surface (the private modules hold the code)::

    plan = resolve_probes(project, "gender")            # or a YAML path, bold:gender, crows-pairs
    res = run_probe(project, plan=plan, model="tiny:gpt2")
    res = run_probe(project, outputs="outputs.csv")     # bring your own generations
    cmp = compare_results(load_result(project, "12"), load_result(project, "13"))
"""

from ._benchmarks import BENCHMARKS, load_benchmark
from ._compare import compare_results
from ._report import compare_html, probe_html, render_probe_report, write_compare_report
from ._run import (
    ProbeResult, analyze, build_result, check_outputs, load_examples, load_result,
    read_outputs, run_probe,
)
from ._scorers import SCORERS, ScoreInput, agreement, get_scorer, register_scorer, score_outputs
from ._sets import (
    ProbePlan, ProbePrompt, ProbeSet, TemplateSpec, expand, list_probe_sets,
    load_probe_set_file, parse_probe_set, parse_probe_set_text, resolve_probes,
)

__all__ = [
    "BENCHMARKS", "load_benchmark", "compare_results", "compare_html", "probe_html",
    "render_probe_report", "write_compare_report", "ProbeResult", "analyze", "build_result",
    "check_outputs", "load_examples", "load_result", "read_outputs", "run_probe", "SCORERS",
    "ScoreInput", "agreement", "get_scorer", "register_scorer", "score_outputs", "ProbePlan",
    "ProbePrompt", "ProbeSet", "TemplateSpec", "expand", "list_probe_sets",
    "load_probe_set_file", "parse_probe_set", "parse_probe_set_text", "resolve_probes",
]
