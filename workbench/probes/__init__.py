"""Bias probes: demographic prompt sets, scorers, group statistics, before/after comparison.

Public surface (the private modules hold the code)::

    plan = resolve_probes(project, "gender")            # or a YAML path, bold:gender, crows-pairs
    res = run_probe(project, plan=plan, model="tiny:gpt2")
    res = run_probe(project, outputs="outputs.csv")     # bring your own generations
    res.result["verdict"]                               # flagged | cleared | inconclusive
    res.result["offsets"], res.result["comparisons"][0]["phrasings"]  # scorer offset, wordings
    cmp = compare_results(load_result(project, "12"), load_result(project, "13"))
"""

from ._benchmarks import BENCHMARKS, load_benchmark
from ._compare import compare_results, compare_runs, record_comparison
from ._mitigation import mitigation_defaults, mitigation_from_runs, mitigation_report
from ._resolve import probe_prompts, resolve_probes
from ._robust import scorer_offsets, subtract_offsets
from ._run import (
    ProbeResult,
    analyze,
    build_result,
    check_outputs,
    generation_label,
    generation_settings,
    has_chat_template,
    load_examples,
    load_result,
    read_outputs,
    run_probe,
)
from ._scorers import (
    SCORERS,
    ScoreInput,
    agreement,
    get_scorer,
    krippendorff_agreement,
    register_scorer,
    score_outputs,
)
from ._sets import (
    ControlText,
    ProbePlan,
    ProbePrompt,
    ProbeSet,
    TemplateSpec,
    expand,
    list_probe_sets,
    load_probe_set_file,
    parse_probe_set,
    parse_probe_set_text,
)
from ._stats import (
    Comparison,
    GroupReport,
    GroupStat,
    StatsConfig,
    adjust_pvalues,
    compare_groups,
    contexts_needed,
    finalize,
    paired_power,
)

__all__ = [
    "BENCHMARKS", "load_benchmark", "compare_results", "compare_runs", "record_comparison",
    "mitigation_report", "mitigation_from_runs", "mitigation_defaults", "ProbeResult",
    "probe_prompts",
    "Comparison", "GroupReport", "GroupStat", "StatsConfig", "adjust_pvalues",
    "compare_groups", "contexts_needed", "finalize", "paired_power", "analyze", "build_result",
    "check_outputs", "load_examples", "load_result", "read_outputs", "run_probe", "SCORERS",
    "ScoreInput", "agreement", "get_scorer", "register_scorer", "score_outputs", "ProbePlan",
    "ProbePrompt", "ProbeSet", "TemplateSpec", "expand", "list_probe_sets",
    "load_probe_set_file", "parse_probe_set", "parse_probe_set_text", "resolve_probes",
    "ControlText", "generation_label", "generation_settings", "has_chat_template",
    "krippendorff_agreement", "scorer_offsets", "subtract_offsets",
]

from ._views import (  # noqa: E402 - what front ends show of a probe run
    interval_label,
    agreement_text,
    compare_message,
    comparison_rows,
    contexts_needed_text,
    generation_of,
    group_rows,
    interval_rows,
    offset_rows,
    plan_rows,
    probe_run_label,
    robustness_rows,
    save_probe_set,
    verdict_message,
)

__all__ += ["agreement_text", "interval_label", "offset_rows", "robustness_rows",
            "compare_message", "comparison_rows", "contexts_needed_text", "generation_of",
            "group_rows", "interval_rows", "plan_rows", "probe_run_label", "save_probe_set",
            "verdict_message"]
