"""Hugging Face transformers backend: a ModelTarget becomes lm-eval HFLM arguments, then an HFLM.

torch, transformers and lm_eval are imported inside functions: the API imports this package's
catalog, never this module's heavy dependencies.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from benchmarks.bundled import BUNDLED_MODELS, BUNDLED_PREFIX, ensure_converted, source_sha256
from benchmarks.fingerprint import local_fingerprint
from benchmarks.target import ModelLoadError, ModelTarget

DTYPES = {"float32": "float32", "float16": "float16", "bfloat16": "bfloat16"}


def pick_device(requested: str) -> str:
    if requested != "auto":
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


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


def model_args(target: ModelTarget, *, cache_dir: Path, device: str, batch_size: int) -> dict[str, Any]:
    """lm-eval HFLM keyword arguments for the target (also what the reproduce command prints)."""
    args: dict[str, Any] = {"device": device, "batch_size": batch_size}
    if target.precision in DTYPES:
        args["dtype"] = DTYPES[target.precision]
    elif target.precision in ("8bit", "4bit"):
        if not device.startswith("cuda"):
            raise ModelLoadError(
                f"precision {target.precision} needs a CUDA GPU with bitsandbytes and this worker has none; "
                "submit float32, float16 or bfloat16 instead"
            )
        args[f"load_in_{target.precision[0]}bit"] = True
    else:
        raise ModelLoadError(f"unknown precision {target.precision!r}")

    if target.weight_type in ("adapter", "delta"):
        if not target.base_model:
            raise ModelLoadError(f"{target.weight_type} weights need a base_model")
        base_source = (
            "bundled"
            if target.base_model.startswith(BUNDLED_PREFIX)
            else ("local" if target.base_model.startswith("/") else "hub")
        )
        pretrained, revision, _ = materialize(target.base_model, base_source, "main", None, cache_dir)
        weights, _, _ = materialize(
            target.reference, target.source, target.revision, target.commit_sha, cache_dir
        )
        args["pretrained"] = pretrained
        args["peft" if target.weight_type == "adapter" else "delta"] = weights
    else:
        pretrained, revision, _ = materialize(
            target.reference, target.source, target.revision, target.commit_sha, cache_dir
        )
        args["pretrained"] = pretrained
    if revision:
        args["revision"] = revision
    return args


def model_commit(target: ModelTarget, cache_dir: Path) -> str | None:
    return materialize(target.reference, target.source, target.revision, target.commit_sha, cache_dir)[2]


def load(args: dict[str, Any]) -> Any:
    """Build the lm-eval HFLM. Any failure here is the model's, not the worker's: no retry."""
    from lm_eval.models.huggingface import HFLM

    try:
        return HFLM(**args)
    except Exception as exc:
        raise ModelLoadError(f"could not load {args.get('pretrained')}: {type(exc).__name__}: {exc}") from exc


def chat_template_hash(lm: Any) -> str | None:
    tokenizer = getattr(lm, "tokenizer", None)
    template = getattr(tokenizer, "chat_template", None)
    if not template:
        return None
    text = template if isinstance(template, str) else json.dumps(template, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
