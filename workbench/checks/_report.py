"""Check results: engine-independent, shaped by the issue's JSON contract."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

EXAMPLES = 20  # as many failing examples as Great Expectations' partial_unexpected_list


class CheckResult(BaseModel):
    """The outcome of one rule, counted as Great Expectations counts it.

    ``unexpected_percent`` is over the non-missing values, as Great Expectations
    reports it for column map expectations; aggregate rules (a row count, a mean,
    class shares) have no unexpected rows and report 0 with their ``observed`` value.
    """

    model_config = ConfigDict(extra="forbid")

    expectation: str
    column: str | None
    success: bool
    unexpected_count: int
    unexpected_percent: float
    examples: list[Any]
    # not in the JSON contract, kept for the reports and the store
    index: int = 0
    engine: str = "great_expectations"
    kwargs: dict[str, Any] = {}
    notes: str | None = None
    element_count: int | None = None
    observed: Any = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The contract shape: exactly the keys of the issue's JSON schema."""
        return {"expectation": self.expectation, "column": self.column,
                "success": self.success, "unexpected_count": self.unexpected_count,
                "unexpected_percent": self.unexpected_percent, "examples": self.examples}

    @property
    def label(self) -> str:
        return f"{self.expectation}({self.column})" if self.column else self.expectation


class DatasetRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: str
    rows: int


class CheckReport(BaseModel):
    """A suite's results on one dataset, one entry per rule in suite order."""

    model_config = ConfigDict(extra="forbid")

    success: bool
    suite: str
    dataset: DatasetRef
    results: list[CheckResult]
    suite_path: str | None = None
    duration_s: float | None = None
    engine: str = "pandas"

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if not r.success]

    def to_dict(self) -> dict[str, Any]:
        """The issue's JSON contract, exactly."""
        return {"success": self.success, "suite": self.suite,
                "dataset": self.dataset.model_dump(),
                "results": [r.to_dict() for r in self.results]}

    def details(self) -> list[dict[str, Any]]:
        """What the contract leaves out (observed values, notes, errors), per rule."""
        return [{"observed": r.observed, "notes": r.notes, "error": r.error,
                 "element_count": r.element_count, "engine": r.engine, "kwargs": r.kwargs}
                for r in self.results]
