"""Settings: the only module that reads the environment (prefix EVALBOARD_)."""

from __future__ import annotations

import os
import socket
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator
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
    view_cache: bool = Field(
        True,
        description="Keep rendered board views per process until the board changes (exact, never stale; "
        "off: every view is rendered afresh).",
    )

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
    worker_max_gen_toks: int | None = Field(
        None,
        gt=0,
        description="Cap on the tokens of every generated answer, for quick checks and CI on small "
        "machines only: it changes the numbers (each result records it). Empty: each task's own.",
    )
    worker_device: str = Field("auto", description="auto | cpu | cuda | cuda:N (hf backend)")
    worker_backend: str = Field(
        "auto",
        pattern="^[a-z][a-z0-9_]{0,31}$",
        description="auto (vllm where installed and a GPU is present, else hf) or a backend's name; "
        "the worker refuses an unknown one before its first job",
    )
    worker_gpus: int = Field(0, ge=0, description="GPUs for vLLM tensor parallelism; 0: every visible GPU")
    vllm_gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    vllm_max_model_len: int | None = Field(None, gt=0, description="Empty: the model's own context length")
    vllm_enable_prefix_caching: bool = True
    job_max_attempts: int = Field(3, ge=1)
    job_retry_backoff_seconds: float = Field(10.0, ge=0, description="Base of the exponential retry backoff.")
    log_tail_lines: int = Field(40, gt=0)

    data_source: str = Field(
        "auto",
        pattern="^(auto|hub|bundled)$",
        description="Benchmark items: hub (real datasets), bundled (samples in the repo), auto (hub where "
        "saved locally or reachable, else bundled).",
    )
    datasets_dir: Path | None = Field(
        None, description="Hub datasets saved by `evalboard datasets pull`. Empty: <home>/datasets."
    )
    response_cache: bool = Field(True, description="Cache model responses (identical re-runs make no calls).")
    response_cache_dir: Path | None = Field(None, description="Empty: <home>/cache/responses.")
    private_dir: Path | None = Field(
        None, description="Private held-out benchmarks (items stay on the server). Empty: <home>/private."
    )
    openai_api_key: str = Field(
        "EMPTY", description="Key sent to openai: model endpoints (server-side only; never from a request)."
    )
    openai_concurrency: int = Field(4, ge=1, description="Parallel requests to an openai: model endpoint.")
    openai_max_retries: int = Field(5, ge=0, description="Retries with backoff on 429, 5xx, timeouts.")
    openai_timeout_seconds: float = Field(120.0, gt=0)
    openai_allowed_base_urls: list[str] = Field(
        default_factory=list,
        description="Base URLs an openai: model may point at even when they resolve to loopback, private, "
        "link-local or other non-public addresses (a JSON list, each exactly as submitted, without a "
        "trailing slash). Endpoints resolving to public addresses only are always allowed. Applies to "
        "every signed-in submitter, administrators too; not to the server's own command line.",
    )
    hub_offline: bool = Field(False, description="Never contact the Hugging Face hub.")
    bertscore_model: str = Field(
        "auto",
        description="BERTScore model for generation suites and POST /api/v1/score: auto (bert-base-"
        "multilingual-cased for Korean, roberta-large for English where in the local Hugging Face cache, "
        "else the bundled MiniLM-L6), bundled:all-minilm-l6-v2, or a hub id / local folder.",
    )
    bertscore_num_layers: int | None = Field(
        None, gt=0, description="Empty: bert-score's tuned layer for the model (6 for the bundled MiniLM)."
    )
    judge_base_url: str | None = Field(
        None, description="OpenAI-compatible base URL of the LLM judge (server configuration only)."
    )
    judge_model: str | None = Field(None, description="The judge's model name at that endpoint.")
    judge_api_key: str = Field("EMPTY", description="Key sent to the judge endpoint; never recorded.")
    judge_concurrency: int = Field(8, ge=1, description="Judge requests in flight at once.")
    judge_max_retries: int = Field(
        5, ge=0, description="Retries with backoff on 429, 5xx, timeouts, garbage."
    )
    judge_timeout_seconds: float = Field(60.0, gt=0)
    judge_price_input_per_mtok: float | None = Field(
        None, ge=0, description="USD per million prompt tokens, for the cost recorded with judge results."
    )
    judge_price_output_per_mtok: float | None = Field(None, ge=0)
    judge_max_tokens: int | None = Field(
        None,
        gt=0,
        description="Cap on every judge reply's length (slow local judges); empty: the prompts' own.",
    )
    judge_local_model: str = Field(
        "bundled:smollm2-135m-instruct",
        description="The judge when no judge endpoint is set: a bundled model behind the local adapter.",
    )
    judge_korean_penalty: bool = Field(
        True, description="Answers to Korean MT-Bench questions that are not in Korean get the lowest rating."
    )
    judge_logprobs: bool = Field(
        True,
        description="Ask the judge for log-probabilities (G-Eval, follow-ups); off where unsupported.",
    )
    judge_budget_usd: float | None = Field(
        None,
        gt=0,
        description="Most a request may spend on the judge (needs the judge's prices): a request whose "
        "estimate is over it fails before any judge call; judging stops when the recorded cost reaches it.",
    )
    judge_repeats: int = Field(
        1,
        ge=1,
        le=10,
        description="Times the judge grades each item (sampled when above 1); the median counts, the spread "
        "is shown.",
    )
    score_max_pairs: int = Field(
        5000, gt=0, description="Most prediction/reference pairs one POST /api/v1/score may send (413 over)."
    )
    judge_geval: bool = Field(
        True,
        description="Grade generation suites' summaries with G-Eval through the judge (extra metrics beside "
        "ROUGE and BERTScore; the ranked metric is unchanged). The bundled judge takes seconds per summary "
        "and criterion on a CPU: false leaves G-Eval out.",
    )
    judge_file_max_items: int = Field(
        200, gt=0, description="Most items one POST /api/v1/judge file may hold (413 over)."
    )
    judge_file_max_bytes: int = Field(
        500_000, gt=0, description="Largest POST /api/v1/judge file, in bytes (413 over)."
    )
    hub_timeout_seconds: float = Field(5.0, gt=0)
    finetune_max_upload_bytes: int = Field(
        20_000_000, gt=0, description="Largest fine-tune dataset upload; larger ones get 413."
    )
    finetune_max_examples: int = Field(100_000, gt=0, description="Most examples in one fine-tune dataset.")
    finetune_max_steps: int = Field(
        100_000, gt=0, description="Most optimizer steps one fine-tune may ask for (epochs count too)."
    )
    max_model_params_b: float = Field(
        80.0, gt=0, description="Submissions larger than this (billions of parameters) are refused."
    )

    # --- identity, quotas and hardening (app/auth) ---
    secret_key: str = Field(
        "",
        description="Signs session cookies. Empty: a random key kept in <home>/secret_key (one server); "
        "set the same value on every API process behind a load balancer.",
    )
    session_hours: float = Field(24.0 * 7, gt=0, description="How long a web sign-in lasts.")
    cookie_secure: bool | None = Field(
        None, description="Secure session cookie. Empty: when the request arrived over https."
    )
    submissions_per_week: int = Field(
        10, ge=0, description="Evaluation requests a member may create in a rolling 7 days (admins exempt)."
    )
    rate_limit: str = Field(
        "120/minute", description="Requests per caller on the whole API (limits' syntax); empty: off."
    )
    rate_limit_storage: str = Field(
        "memory://",
        description="Where rate-limit counts live: memory:// (this process) or redis://HOST:PORT/DB "
        "(shared by every API process).",
    )
    signin_failures_per_name: str = Field(
        "5/minute", description="Wrong passwords for one name before sign-in slows down (429)."
    )
    signin_failures_per_address: str = Field(
        "20/minute", description="Wrong passwords from one address before sign-in slows down (429)."
    )
    auth_cache_seconds: float = Field(
        5.0,
        ge=0,
        description="How long a token lookup is reused in one process (a revocation elsewhere takes "
        "effect within it).",
    )
    max_body_bytes: int = Field(
        1_000_000, gt=0, description="Largest request body on every route except the fine-tune upload."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser; empty: no CORS."
    )
    local_model_roots: list[Path] = Field(
        default_factory=list,
        description="Folders under which members may submit local model folders (admins: anywhere).",
    )
    openai_trusted_base_urls: list[str] = Field(
        default_factory=list,
        description="Endpoint base URLs (exact, without a trailing slash) trusted with private held-out "
        "sets (the private suite).",
    )
    bootstrap_admin: bool = Field(
        False,
        description="On start with no users: create admin `admin` and log a one-time sign-in link and "
        "an API token (make run sets it, on the embedded SQLite default only).",
    )

    @field_validator("home", mode="after")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _budget_needs_prices(self) -> Settings:
        """A budget on a judge endpoint without prices could never be enforced: say so at start."""
        priced = self.judge_price_input_per_mtok is not None and self.judge_price_output_per_mtok is not None
        if self.judge_budget_usd is not None and self.judge_base_url and not priced:
            raise ValueError(
                "EVALBOARD_JUDGE_BUDGET_USD needs EVALBOARD_JUDGE_PRICE_INPUT_PER_MTOK and "
                "EVALBOARD_JUDGE_PRICE_OUTPUT_PER_MTOK (the judge's prices), or no budget"
            )
        return self

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
    def resolved_datasets_dir(self) -> Path:
        return (self.datasets_dir or self.home / "datasets").expanduser().resolve()

    @property
    def resolved_response_cache_dir(self) -> Path | None:
        if not self.response_cache:
            return None
        return (self.response_cache_dir or self.home / "cache" / "responses").expanduser().resolve()

    @property
    def resolved_private_dir(self) -> Path:
        return (self.private_dir or self.home / "private").expanduser().resolve()

    @property
    def harness_kwargs(self) -> dict[str, Any]:
        """run_suite's keyword arguments from this worker's settings (plain JSON: it crosses processes)."""
        cache = self.resolved_response_cache_dir
        return {
            "backend": self.worker_backend,
            "device": self.worker_device,
            "batch_size": self.worker_batch_size,
            "max_gen_toks": self.worker_max_gen_toks,
            "data_source": "bundled" if self.hub_offline and self.data_source == "auto" else self.data_source,
            "datasets_dir": str(self.resolved_datasets_dir),
            "response_cache_dir": str(cache) if cache else None,
            "metric_options": {"bertscore": self.bertscore_options, "geval": {"enabled": self.judge_geval}},
            "judge": self.judge_options,
            # Each backend's own settings, by its registered name (harness/backends).
            "backend_options": {
                "vllm": self.vllm_kwargs,
                "openai": {
                    "api_key": self.openai_api_key,  # crosses to the job child in memory, never recorded
                    "num_concurrent": self.openai_concurrency,
                    "max_retries": self.openai_max_retries,
                    "timeout": int(self.openai_timeout_seconds),
                    # Checked against only for guarded runs: jobs from the queue (app/worker/child).
                    "allowed_base_urls": list(self.openai_allowed_base_urls),
                },
            },
        }

    @property
    def judge_options(self) -> dict[str, Any]:
        """The judge part of harness_kwargs (plain JSON; the key crosses to the job child in memory
        and is never recorded: results keep the endpoint's URL and model only)."""
        endpoint = self.judge_endpoint()
        return {
            "endpoint": None if endpoint is None else asdict(endpoint),
            "cache_url": self.resolved_database_url,
            "korean_penalty": self.judge_korean_penalty,
            "logprobs": self.judge_logprobs,
            "local_model": self.judge_local_model,
            "max_tokens": self.judge_max_tokens,
            "budget_usd": self.judge_budget_usd,
            "repeats": self.judge_repeats,
        }

    def judge_endpoint(self) -> Any:
        """The judge as configured (evaluators.judge.client.JudgeEndpoint), or None when no judge is
        set. Submissions never carry a judge URL or key: only these settings do."""
        if not self.judge_base_url or not self.judge_model:
            return None
        from evaluators.judge.client import JudgeEndpoint

        return JudgeEndpoint(
            base_url=self.judge_base_url,
            model=self.judge_model,
            api_key=self.judge_api_key,
            concurrency=self.judge_concurrency,
            max_retries=self.judge_max_retries,
            timeout_s=self.judge_timeout_seconds,
            price_input_per_mtok=self.judge_price_input_per_mtok,
            price_output_per_mtok=self.judge_price_output_per_mtok,
            max_tokens=self.judge_max_tokens,
        )

    @property
    def bertscore_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"model": self.bertscore_model}
        if self.bertscore_num_layers is not None:
            options["num_layers"] = self.bertscore_num_layers
        return options

    @property
    def resolved_worker_id(self) -> str:
        return self.worker_id or f"{socket.gethostname()}:{os.getpid()}"

    @property
    def vllm_kwargs(self) -> dict[str, Any]:
        """Arguments of harness.backends.vllm.make_options (a plain dict: it crosses processes)."""
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
