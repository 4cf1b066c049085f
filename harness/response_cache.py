"""Response cache: an identical re-run makes no model calls and does not even load the model.

lm-eval's CachingLM keys each response on the request type and its exact arguments (the full
prompt and continuation, or prompt and generation settings), in one SQLite file per model
identity: the model commit, the backend and its arguments, the chat-template switch and the lm-eval
version. A task change that alters prompts therefore misses, and one that only alters scoring hits
and is re-scored. Sampled generations (do_sample) are never cached.

DeferredLM stands in for the hf backend's HFLM: lm-eval needs only the tokenizer to build
requests (chat templates included), so the weights load on the first cache miss, and a fully
cached re-run never loads them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from lm_eval.api.model import LM, TemplateLM
from lm_eval.models.huggingface import HFLM


def model_identity(commit: str | None, backend: str, args: dict[str, Any], use_chat_template: bool) -> str:
    payload = {
        "commit": commit,
        "backend": backend,
        "args": args,
        "chat_template": use_chat_template,
        "lm_eval": version("lm_eval"),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:24]


def cache_prefix(cache_dir: Path, identity: str) -> str:
    """simple_evaluate(use_cache=...) appends `_rank<N>.db` to this."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    return str(cache_dir / identity)


class DeferredLM(LM):
    """An LM whose weights load on first use; until then it answers lm-eval from the tokenizer."""

    def __init__(self, factory: Callable[[], LM], tokenizer: Any, device: str) -> None:
        super().__init__()
        self._factory = factory
        self._lm: LM | None = None
        self.tokenizer = tokenizer
        self.chat_template_args: dict[str, Any] = {}  # HFLM's default: no extra template arguments
        self._device = device
        self.model_calls = 0  # requests actually sent to the model (0 on a fully cached run)

    @property
    def loaded(self) -> bool:
        return self._lm is not None

    def real(self) -> LM:
        if self._lm is None:
            self._lm = self._factory()
        return self._lm

    def loglikelihood(self, requests: list[Any], disable_tqdm: bool = False) -> list[Any]:
        self.model_calls += len(requests)
        return self.real().loglikelihood(requests, disable_tqdm=disable_tqdm)

    def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[Any]:
        self.model_calls += len(requests)
        return self.real().loglikelihood_rolling(requests, disable_tqdm=disable_tqdm)

    def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[Any]:
        self.model_calls += len(requests)
        return self.real().generate_until(requests, disable_tqdm=disable_tqdm)

    # Prompt building reuses HFLM's own code paths on the tokenizer, so prompts (and cache keys)
    # are identical whether or not the weights are loaded.
    def apply_chat_template(
        self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True
    ) -> str:
        return HFLM.apply_chat_template(self, chat_history, add_generation_prompt)

    def chat_template(self, chat_template: bool | str = False) -> str | None:
        return TemplateLM.chat_template(self, chat_template)

    @property
    def tokenizer_name(self) -> str:
        return str(self.tokenizer.name_or_path).replace("/", "__")

    def get_model_info(self) -> dict[str, Any]:
        return self.real().get_model_info() if self._lm is not None else {}

    def __getattr__(self, name: str) -> Any:
        # Anything else (eot_token_id, max_length, batch_sizes) comes from the model once it is
        # loaded. Before that the attribute is missing: lm-eval reads these with getattr/hasattr
        # defaults, and loading the weights just to report them would defeat the cache.
        if name.startswith("_") or self.__dict__.get("_lm") is None:
            raise AttributeError(name)
        return getattr(self.__dict__["_lm"], name)


def load_tokenizer(pretrained: str, revision: str | None) -> Any:
    """The tokenizer exactly as HFLM prepares it (pad token included), without the weights."""
    from lm_eval.models.utils import configure_pad_token
    from transformers import AutoConfig, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(pretrained, revision=revision or "main")
    return configure_pad_token(
        tokenizer, model_config=AutoConfig.from_pretrained(pretrained, revision=revision or "main")
    )
