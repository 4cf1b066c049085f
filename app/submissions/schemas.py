"""Submission input and model output shapes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.leaderboard.schemas import BoardStanding

if TYPE_CHECKING:
    from app.tables import LlmModel

# 8bit / 4bit quantize at load time (bitsandbytes); gptq names weights already quantized with GPTQ.
Precision = Literal["float32", "float16", "bfloat16", "8bit", "4bit", "gptq"]
WeightType = Literal["original", "delta", "adapter"]
ModelType = Literal["pretrained", "continuously_pretrained", "fine_tuned", "chat", "merge"]


class SubmissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    model: str = Field(
        ...,
        min_length=1,
        max_length=512,
        description="bundled:NAME, a local folder on the server, or a hub id org/name[@revision]",
        examples=["bundled:smollm2-135m-instruct"],
    )
    revision: str | None = Field(None, max_length=128, description="Hub revision (branch, tag or commit)")
    precision: Precision = "bfloat16"
    weight_type: WeightType = "original"
    base_model: str | None = Field(None, max_length=512, description="Required for delta and adapter weights")
    model_type: ModelType | None = Field(
        None, description="Default: the bundled model's own type, else pretrained"
    )
    use_chat_template: bool | None = Field(None, description="Default: true for chat models")
    suites: list[str] = Field(default_factory=lambda: ["smoke"], min_length=1, max_length=16)
    licence: str | None = Field(None, max_length=128)
    tokenizer: str | None = Field(
        None,
        max_length=512,
        description="openai: endpoints only: the served model's tokenizer (hub id, server folder or "
        "bundled:NAME); needed for log-likelihood benchmarks",
    )

    @model_validator(mode="after")
    def _base_model_rules(self) -> SubmissionIn:
        if self.weight_type in ("delta", "adapter") and not self.base_model:
            raise ValueError(
                f"weight_type {self.weight_type!r} needs base_model: the model the weights apply to"
            )
        if self.tokenizer and not self.model.startswith("openai:"):
            raise ValueError("tokenizer is only for openai:MODEL@URL endpoints; drop it for weights")
        if self.weight_type == "original" and self.base_model:
            raise ValueError(
                "base_model is only for delta or adapter weights; set weight_type or drop base_model"
            )
        return self


class ModelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    reference: str
    source: str
    name: str
    revision: str
    commit_sha: str | None
    precision: str
    weight_type: str
    base_model: str | None
    model_type: str
    params_b: float | None
    licence: str | None
    use_chat_template: bool
    tokenizer: str | None = None
    flags: list[str]
    flag_reason: str | None = Field(None, description="Why an administrator flagged it; None: not flagged")
    hidden: bool = Field(False, description="Hidden by an administrator: on no board or export")
    submitted_by: str | None = Field(None, description="The submitter's user name; None: the command line")
    submitted_at: datetime
    boards: list[BoardStanding] = Field(
        default_factory=list,
        description="GET /api/v1/models/{id} only: the model's place on each board it is on, with the "
        "bootstrap figures (95 % interval on the average, rank interval, tie with the next rank)",
    )

    @classmethod
    def of(cls, model: LlmModel, names: dict[int, str]) -> ModelOut:
        """The row as served: the row holds its submitter's user id, the API their name (names: ids
        to names, from app.auth.audit.user_names)."""
        served = [name for name in cls.model_fields if name not in ("submitted_by", "boards")]
        fields = {name: getattr(model, name) for name in served}
        submitter = names.get(model.submitted_by) if model.submitted_by is not None else None
        return cls.model_validate({**fields, "submitted_by": submitter})


class SubmissionOut(BaseModel):
    model_id: int
    request_ids: list[int]
    job_ids: list[int]
