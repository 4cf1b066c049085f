"""Fine-tune request and status shapes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from benchmarks.training_params import TrainingParams

HUB_DATASET_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
Precision = Literal["float32", "bfloat16", "float16"]


class FinetuneIn(TrainingParams):
    """The form fields (or JSON body) of POST /api/v1/finetunes: the base model, where the data
    comes from when it is not an upload, what to evaluate afterwards, and the LoRA settings."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    base_model: str = Field(..., min_length=1, max_length=512, examples=["bundled:smollm2-135m-instruct"])
    revision: str | None = Field(None, max_length=128)
    precision: Precision = Field("float32", description="Weights while training and evaluating")
    dataset_id: str | None = Field(None, max_length=256, description="A hub dataset id instead of an upload")
    suites: list[str] = Field(default_factory=lambda: ["smoke"], max_length=16)

    @model_validator(mode="after")
    def _hub_id(self) -> FinetuneIn:
        if self.dataset_id is not None and not HUB_DATASET_ID.match(self.dataset_id):
            raise ValueError(f"dataset_id {self.dataset_id!r} is not a hub dataset id (org/name)")
        return self

    def training_params(self) -> TrainingParams:
        return TrainingParams.model_validate(self.model_dump(include=set(TrainingParams.model_fields)))


class FinetuneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    # The submitter's user name (None: the server's command line). The row holds the user's id under
    # this name, so validation reads another attribute and the service fills the name in.
    submitted_by: str | None = Field(None, validation_alias="submitted_by_name")
    id: int
    status: str
    base_model_id: int
    base_reference: str
    dataset_name: str
    dataset_sha256: str | None
    examples: int | None
    params: dict[str, Any]
    suites: list[str]
    step: int
    total_steps: int | None
    losses: list[list[float]]
    eta_seconds: float | None
    tokens_per_second: float | None
    summary: dict[str, Any] | None
    contamination: dict[str, Any] | None
    adapter_path: str | None
    tuned_model_id: int | None
    request_ids: list[int] = Field(default_factory=list)  # the tuned model's evaluations
    base_request_ids: list[int] = Field(default_factory=list)  # the base's, queued for the delta
    job_id: int | None
    error: str | None
    log_tail: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
