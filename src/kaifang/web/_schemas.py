"""Request and response bodies of the JSON API (they make the OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_SCENARIO_CHARS = 100_000
RUN_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,80}$"
JOB_ID_PATTERN = r"^job-[0-9]+-[0-9a-f]{8}$"


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Out):
    """Every error the API returns (4xx and 5xx): never a traceback."""

    error: str = Field(description="machine-readable kind, e.g. 'not_found', 'invalid_scenario', 'internal'")
    message: str = Field(description="a sentence for the user")
    errors: list[FieldErrorOut] = Field(default_factory=list, description="per-field problems, if any")


class FieldErrorOut(_Out):
    """One validation problem and the field it points at."""

    field: str | None = Field(description="path of the field at fault, e.g. 'shocks[0].op'; null if none")
    message: str
    line: int | None = Field(None, description="line in the TOML text (syntax errors)")
    column: int | None = None


class Health(_Out):
    status: Literal["ok"]
    version: str
    store: str = Field(description="the results store file this server uses")
    workers: int
    workers_ready: int = Field(description="worker processes started and waiting for runs")
    queued: int = Field(0, description="runs waiting for a worker")
    running: int = Field(0, description="runs being solved or saved")
    max_queued: int = Field(0, description="most runs that may wait; more are refused with 429")


class DatasetOut(_Out):
    name: str
    title: str
    synthetic: bool
    available: bool = Field(description="all files found locally (mirror or cache), or generated")
    size_mb: float
    regions: list[str] = Field(default_factory=list, description="region labels, when known")
    sectors: list[str] = Field(default_factory=list, description="sector labels, when known")
    tables: list[str] = Field(default_factory=list, description="tariff tables for shocks' from_table")
    sector_groups: list[str] = Field(
        default_factory=list, description="sector group names (goods, services...)"
    )


class ModelOut(_Out):
    name: str


class ShockFieldOut(_Out):
    """One field of a shock table, as the form shows it."""

    name: str
    kind: Literal["selector", "number", "integer_or_name", "enum", "bool", "string"]
    options: list[str] = Field(default_factory=list, description="choices of an enum")
    default: Any = None
    required: bool
    description: str = ""


class ShockTypeOut(_Out):
    """A shock type of the scenario language (:mod:`kaifang.scenario.shocks`)."""

    type: str
    description: str
    fields: list[ShockFieldOut]
    json_schema: dict[str, Any] = Field(description="JSON Schema of the shock table")


class MetaOut(_Out):
    """What the scenario builder needs: data sets, models, groups and shock types."""

    datasets: list[DatasetOut]
    models: list[ModelOut]
    groups: dict[str, list[str]]
    shock_types: list[ShockTypeOut]


class ScenarioIn(BaseModel):
    """A scenario as TOML text (exactly what ``kaifang run`` reads from a file)."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=MAX_SCENARIO_CHARS, description="scenario TOML")
    origin: Literal["form", "editor", "api"] = Field(
        "api",
        description="where the text was written, to name it in messages: 'form' (the scenario form), "
        "'editor' (the TOML editor) or 'api'",
    )


class ValidationOut(_Out):
    valid: bool
    errors: list[FieldErrorOut]
    warnings: list[str] = Field(
        default_factory=list,
        description="warnings of the validation (valid anyway): a shock that changes nothing, group members "
        "outside the data set ... (the warnings of `kaifang validate`)",
    )
    complete: bool = Field(
        True, description="false when the model has no prepare step, so only the common fields were checked"
    )
    summary: dict[str, Any] = Field(
        default_factory=dict, description="what validation found: regions, sectors, shocked cells ..."
    )
    scenario: dict[str, Any] | None = Field(
        None, description="the parsed scenario (fields of the TOML file) when valid"
    )


class JobOut(_Out):
    id: str
    state: Literal["queued", "running", "saving", "done", "failed", "cancelled"] = Field(
        description="'saving': solved, result readable at /api/jobs/{id}/result, being saved in the store"
    )
    scenario: str
    model: str
    dataset: str
    created: float = Field(description="UNIX time of submission")
    seconds: float | None = Field(description="run time so far (or in all, when finished)")
    progress: list[str]
    run_id: str | None = Field(description="the results-store id, when done")
    error_kind: str | None
    error: str | None
    errors: list[FieldErrorOut] = Field(default_factory=list)
    version: int = Field(description="increments on every change (for long polling)")


class RunRow(_Out):
    run_id: str
    created_at: str | None
    scenario: str
    model: str
    dataset: str
    scenario_sha256: str | None
    synthetic: bool
    solve_seconds: float | None


class TableInfo(_Out):
    name: str
    rows: int
    columns: list[str]


class RunOut(_Out):
    run_id: str | None = Field(description="the results-store id (null while a job's result is being saved)")
    document: dict[str, Any] = Field(
        description="the JSON document of `kaifang run --json`: regions, diagnostics, provenance"
    )
    tables: list[TableInfo]


class TableOut(_Out):
    name: str
    columns: list[str]
    rows: list[dict[str, Any]]
    total_rows: int


class CompareOut(_Out):
    runs: list[RunRow]
    columns: list[str] = Field(description="numeric region columns present in every compared run")
    regions: list[str]
    values: dict[str, dict[str, list[float | None]]] = Field(
        description="column -> region -> one value per run (same order as runs)"
    )
    welfare_measures: list[str | None] = Field(
        default_factory=list,
        description="each run's diagnostics.welfare_measure: what its welfare_pct measures (same order as runs)",
    )


ErrorBody.model_rebuild()
