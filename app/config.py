"""Settings: the only module that reads the environment (prefix EVALBOARD_)."""

from __future__ import annotations

import os
import socket
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path(".evalboard")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EVALBOARD_", env_file=".env", extra="ignore")

    home: Path = Field(DEFAULT_HOME, description="Folder for the SQLite database, artifacts and caches.")
    database_url: str = Field("", description="SQLAlchemy URL. Empty: a SQLite file at <home>/evalboard.db.")
    artifacts_dir: Path | None = Field(
        None, description="Where lm-eval results JSON, sample logs and job logs go. Empty: <home>/artifacts."
    )
    model_cache_dir: Path | None = Field(None, description="Converted bundled models. Empty: <home>/models.")
    host: str = "127.0.0.1"
    port: int = 8000

    worker_id: str = Field("", description="Worker name in the queue. Empty: host:pid.")
    worker_lease_seconds: float = Field(
        60.0, gt=0, description="A job whose worker stops heartbeating this long is reaped."
    )
    worker_heartbeat_seconds: float = Field(5.0, gt=0)
    worker_poll_seconds: float = Field(
        2.0, gt=0, description="Polling interval when LISTEN/NOTIFY is unavailable."
    )
    worker_shutdown_grace_seconds: float = Field(
        20.0, ge=0, description="On SIGTERM, how long the current job may run on before it is released."
    )
    worker_job_timeout_seconds: float = Field(
        86400.0, gt=0, description="An attempt running longer than this is killed and counts as failed."
    )
    worker_batch_size: int = Field(8, gt=0, description="lm-eval batch size (8-16 is fastest on CPU).")
    worker_device: str = Field("auto", description="auto | cpu | cuda | cuda:N (hf backend)")
    worker_backend: str = Field(
        "auto",
        pattern="^(auto|hf|vllm)$",
        description="auto: vllm where installed and a GPU is present, else hf",
    )
    worker_gpus: int = Field(0, ge=0, description="GPUs for vLLM tensor parallelism; 0: every visible GPU")
    vllm_gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    vllm_max_model_len: int | None = Field(None, gt=0, description="Empty: the model's own context length")
    vllm_enable_prefix_caching: bool = True
    job_max_attempts: int = Field(3, ge=1)
    job_retry_backoff_seconds: float = Field(10.0, ge=0, description="Base of the exponential retry backoff.")
    log_tail_lines: int = Field(40, gt=0)

    hub_offline: bool = Field(False, description="Never contact the Hugging Face hub.")
    hub_timeout_seconds: float = Field(5.0, gt=0)
    max_model_params_b: float = Field(
        80.0, gt=0, description="Submissions larger than this (billions of parameters) are refused."
    )

    @field_validator("home", mode="after")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'evalboard.db'}"

    @property
    def resolved_artifacts_dir(self) -> Path:
        return (self.artifacts_dir or self.home / "artifacts").expanduser().resolve()

    @property
    def resolved_model_cache_dir(self) -> Path:
        return (self.model_cache_dir or self.home / "models").expanduser().resolve()

    @property
    def resolved_worker_id(self) -> str:
        return self.worker_id or f"{socket.gethostname()}:{os.getpid()}"

    @property
    def vllm_kwargs(self) -> dict[str, Any]:
        """Arguments of benchmarks.backends.vllm.make_options (a plain dict: it crosses processes)."""
        return {
            "gpus": self.worker_gpus,
            "gpu_memory_utilization": self.vllm_gpu_memory_utilization,
            "max_model_len": self.vllm_max_model_len,
            "enable_prefix_caching": self.vllm_enable_prefix_caching,
        }

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
