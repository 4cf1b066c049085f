"""Where a target's weights are: shared by every local backend (hf, vllm).

Bundled models are converted once into the cache; local folders are used in place and
fingerprinted; hub repositories are pinned to the commit resolved at submission.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.bundled import BUNDLED_MODELS, BUNDLED_PREFIX, ensure_converted, source_sha256
from benchmarks.fingerprint import local_fingerprint
from benchmarks.target import ModelLoadError, ModelTarget


@dataclass(frozen=True)
class Weights:
    pretrained: str  # what transformers / vLLM load: a folder or a hub repo id
    revision: str | None  # hub commit to load, None for folders
    extra: str | None  # adapter or delta weights applied on top of `pretrained`
    commit: str | None  # the identity recorded with every result


def materialize(
    reference: str, source: str, revision: str, commit_sha: str | None, cache_dir: Path
) -> tuple[str, str | None, str]:
    """Return (pretrained argument for transformers, revision argument, model commit)."""
    if source == "bundled" or reference.startswith(BUNDLED_PREFIX):
        bundled = BUNDLED_MODELS.get(reference.removeprefix(BUNDLED_PREFIX))
        if bundled is None:
            raise ModelLoadError(f"unknown bundled model {reference!r}")
        try:
            folder = ensure_converted(bundled, cache_dir)
        except Exception as exc:
            raise ModelLoadError(f"could not prepare bundled model {reference}: {exc}") from exc
        return str(folder), None, "gguf-sha256:" + source_sha256(bundled, cache_dir)
    if source == "local" or reference.startswith("/"):
        folder = Path(reference)
        if not folder.is_dir():
            raise ModelLoadError(f"model folder {folder} is gone from this worker")
        return str(folder), None, local_fingerprint(folder)
    # Hub: pin to the commit resolved at submission so a later push cannot change what is measured.
    pinned = commit_sha or revision
    return reference, pinned, pinned


def source_of(reference: str) -> str:
    if reference.startswith(BUNDLED_PREFIX):
        return "bundled"
    return "local" if reference.startswith("/") else "hub"


def locate(target: ModelTarget, cache_dir: Path) -> Weights:
    own, revision, commit = materialize(
        target.reference, target.source, target.revision, target.commit_sha, cache_dir
    )
    if target.weight_type not in ("adapter", "delta"):
        return Weights(pretrained=own, revision=revision, extra=None, commit=commit)
    if not target.base_model:
        raise ModelLoadError(f"{target.weight_type} weights need a base_model")
    base, base_revision, _ = materialize(
        target.base_model, source_of(target.base_model), "main", None, cache_dir
    )
    return Weights(pretrained=base, revision=base_revision, extra=own, commit=commit)


def chat_template_hash(lm: Any) -> str | None:
    tokenizer = getattr(lm, "tokenizer", None)
    template = getattr(tokenizer, "chat_template", None)
    if not template:
        return None
    text = template if isinstance(template, str) else json.dumps(template, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
