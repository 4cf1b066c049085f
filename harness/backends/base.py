"""What every inference backend is to the harness: the `Backend` protocol and what crosses it.

A backend turns a ModelTarget into an lm-eval LM (`load`) and says how lm-eval's own command line
reproduces a call (`reproduce`). The harness, the fine-tune path and the worker ask a backend
these questions, never compare its name. Backends are registered by name in
harness/backends/__init__.py and imported only when first asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from benchmarks.target import ModelTarget


@dataclass
class LoadedModel:
    backend: str  # the registered name: recorded with results and part of the response cache key
    args: dict[str, Any]  # the LM's arguments as recorded (never a secret)
    lm: Any
    commit: str | None
    device: str
    counts_calls: bool = False  # lm is a DeferredLM: it counts requests and loads on first use


@dataclass(frozen=True)
class LoadSettings:
    """Where and how the worker loads a model, the same for every backend."""

    cache_dir: Path
    device: str = "auto"  # auto | cpu | cuda | cuda:N: local backends on one device
    batch_size: int = 8
    # This backend's own settings (the worker's EVALBOARD_* for it), as plain JSON.
    options: dict[str, Any] = field(default_factory=dict)
    deferred: bool = False  # answer from the response cache first; load the weights on a miss only
    # The reference came from a submitter, not the operator: check where loading connects.
    guarded: bool = False


@dataclass(frozen=True)
class ReproduceCall:
    """One lm-eval call as the harness made it, for the command line that gives the same numbers."""

    tasks: list[str]  # every task of the call
    task: str  # the benchmark's own task, for backends whose command differs per request type
    request_type: str  # the benchmark's: "loglikelihood" or "generate"
    num_fewshot: int
    apply_chat_template: bool
    include_paths: list[Path]
    limit: int | None
    max_gen_toks: int | None


class Backend(Protocol):
    name: str
    # References that only this backend serves (e.g. "openai:"), whatever the worker's setting;
    # None: it serves any model the worker can locate.
    reference_prefix: str | None
    reference_form: str | None  # how such a reference is written, for messages: "openai:MODEL@BASE_URL"
    # `auto` takes the highest-ranked backend that runs here; None: only when named.
    auto_rank: int | None
    # A fine-tune's model, still in memory after training, can be evaluated through it.
    evaluates_in_memory: bool

    def runs_here(self) -> bool:
        """Whether this worker has what the backend needs (asked only for `auto`)."""
        ...

    def load(self, target: ModelTarget, settings: LoadSettings) -> LoadedModel:
        """The LM, ready for lm-eval; ModelLoadError when the model (not the worker) is at fault."""
        ...

    def reproduce(self, loaded: LoadedModel, call: ReproduceCall) -> str:
        """The `lm_eval` command line reproducing this benchmark's numbers from `call`."""
        ...
