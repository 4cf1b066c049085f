"""Fine-tune settings and their bounds: one pydantic model shared by the API, the CLI and the worker.

Bounds are generous but finite: they reject values that cannot train (r=0, a zero learning rate),
not values someone might reasonably choose. The server's own ceilings (most steps, examples,
upload bytes) are settings and are checked by the API on top of these.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
QUANTIZATIONS = ("none", "4bit")


class TrainingParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lora_r: int = Field(8, ge=1, le=512, description="LoRA rank")
    lora_alpha: int = Field(16, ge=1, le=4096, description="LoRA scaling numerator (alpha / r)")
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    # None: peft's default for the architecture (q_proj and v_proj on Llama-style models).
    target_modules: list[str] | None = Field(None, min_length=1, max_length=64)
    learning_rate: float = Field(2e-4, gt=0, le=1)
    epochs: float = Field(1.0, gt=0, le=100)
    max_steps: int | None = Field(None, ge=1, description="Optimizer steps; set, it overrides epochs")
    batch_size: int = Field(4, ge=1, le=1024)
    grad_accum: int = Field(1, ge=1, le=1024, description="Batches per optimizer step")
    max_seq_length: int = Field(1024, ge=16, le=32768)
    packing: bool = Field(False, description="Concatenate examples into full-length rows")
    quantization: str = Field("none", description="none | 4bit (QLoRA; needs CUDA and bitsandbytes)")
    warmup_steps: int = Field(0, ge=0, le=100_000)
    seed: int = 1234

    @field_validator("target_modules")
    @classmethod
    def _module_names(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if not MODULE_NAME.match(name):
                raise ValueError(f"{name!r} is not a module name (e.g. q_proj, v_proj)")
        return value

    @field_validator("quantization")
    @classmethod
    def _quantization(cls, value: str) -> str:
        if value not in QUANTIZATIONS:
            raise ValueError(f"must be one of {', '.join(QUANTIZATIONS)}")
        return value
