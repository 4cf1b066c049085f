"""Backend selection and argument building. vLLM is not installed here (its wheel needs CUDA and
another torch), so its arguments are checked as data and its loader must fail with a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.catalog import SMOKE, TASKS_DIR
from benchmarks.target import ModelLoadError, ModelTarget
from harness import backends
from harness.backends import resolve_backend
from harness.backends.vllm import VllmOptions, adapter_rank, load, model_args
from harness.backends.weights import locate
from harness.reproduce import reproduce_command
from tests.unit.test_references import write_safetensors


@pytest.fixture
def local_model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "llama"}))
    write_safetensors(folder / "model.safetensors", {"w": [2, 2]})
    return folder


def target(reference: str, **fields: object) -> ModelTarget:
    values: dict[str, object] = {
        "source": "local",
        "revision": "local",
        "commit_sha": None,
        "precision": "bfloat16",
    }
    values.update(fields)
    return ModelTarget(reference, **values)  # type: ignore[arg-type]


def vllm_args(model: ModelTarget, cache_dir: Path, options: VllmOptions) -> dict[str, object]:
    return model_args(model, locate(model, cache_dir), options=options)


def test_auto_picks_hf_without_vllm_or_gpu_and_unknown_backends_are_refused() -> None:
    assert resolve_backend("auto") == "hf"
    assert resolve_backend("vllm") == "vllm"  # an explicit choice is honoured; loading then says why not
    with pytest.raises(ModelLoadError, match="choose one of auto, hf, vllm, openai"):
        resolve_backend("tgi")
    # An endpoint reference is served by its endpoint whatever the worker's default.
    assert resolve_backend("vllm", "openai:m@http://h/v1") == "openai"
    with pytest.raises(ModelLoadError, match="serves openai:MODEL@BASE_URL references only"):
        resolve_backend("openai", "org/model")


def test_vllm_arguments_for_a_local_model(local_model: Path, tmp_path: Path) -> None:
    options = VllmOptions(gpus=4, gpu_memory_utilization=0.85, max_model_len=4096)
    args = vllm_args(target(str(local_model)), tmp_path, options)
    assert args == {
        "pretrained": str(local_model),
        "dtype": "bfloat16",
        "tensor_parallel_size": 4,
        "gpu_memory_utilization": 0.85,
        "enable_prefix_caching": True,
        "max_model_len": 4096,
        "batch_size": "auto",
    }


def test_vllm_pins_hub_models_to_their_commit(tmp_path: Path) -> None:
    hub = target("org/model", source="hub", revision="main", commit_sha="abc123", precision="float16")
    args = vllm_args(hub, tmp_path, VllmOptions(gpus=1))
    assert (args["pretrained"], args["revision"], args["dtype"]) == ("org/model", "abc123", "float16")


def test_vllm_serves_adapters_through_its_lora_support(local_model: Path, tmp_path: Path) -> None:
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 24}))
    tuned = target(str(adapter), weight_type="adapter", base_model=str(local_model))
    args = vllm_args(tuned, tmp_path, VllmOptions(gpus=1))
    assert args["pretrained"] == str(local_model)
    assert (args["lora_local_path"], args["max_lora_rank"]) == (str(adapter), 32)
    assert adapter_rank(adapter) == 32


def test_vllm_refuses_what_it_cannot_load(local_model: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="needs at least one CUDA GPU"):
        vllm_args(target(str(local_model)), tmp_path, VllmOptions(gpus=0))
    with pytest.raises(ModelLoadError, match="use the hf backend for 8bit"):
        vllm_args(target(str(local_model), precision="8bit"), tmp_path, VllmOptions(gpus=1))
    delta = target(str(local_model), weight_type="delta", base_model=str(local_model))
    with pytest.raises(ModelLoadError, match="delta weights are applied by the hf backend only"):
        vllm_args(delta, tmp_path, VllmOptions(gpus=1))
    four_bit = vllm_args(target(str(local_model), precision="4bit"), tmp_path, VllmOptions(gpus=1))
    assert four_bit["quantization"] == "bitsandbytes"


def test_vllm_loader_says_what_to_install_when_vllm_is_missing() -> None:
    with pytest.raises(ModelLoadError, match=r"vLLM is not installed on this worker; install the extra"):
        load({"pretrained": "x"})


def test_vllm_reproduce_command_has_no_device_flag() -> None:
    args = {"pretrained": "/m", "dtype": "bfloat16", "tensor_parallel_size": 2, "batch_size": "auto"}
    tasks = [spec.task for spec in SMOKE.benchmarks]
    command = reproduce_command(tasks, 0, args, False, "vllm", include_paths=[TASKS_DIR])
    assert command.startswith(
        "lm_eval --model vllm --model_args pretrained=/m,dtype=bfloat16,tensor_parallel_size=2"
    )
    assert "--batch_size auto" in command and "--device" not in command


def test_gptq_weights_need_cuda_and_their_kernels_with_hf_and_use_vllms_kernels(
    local_model: Path, tmp_path: Path
) -> None:
    from harness.backends import hf

    gptq = target(str(local_model), precision="gptq")
    with pytest.raises(ModelLoadError, match="GPTQ weights need a CUDA GPU"):
        hf.model_args(gptq, locate(gptq, tmp_path), device="cpu", batch_size=8)
    with pytest.raises(ModelLoadError, match=r"need optimum and gptqmodel on this worker \(pip install"):
        hf.model_args(gptq, locate(gptq, tmp_path), device="cuda", batch_size=8)
    args = vllm_args(gptq, tmp_path, VllmOptions(gpus=1))
    assert args["quantization"] == "gptq" and "dtype" not in args
    with pytest.raises(ModelLoadError, match="needs a CUDA GPU with bitsandbytes"):
        four_bit = target(str(local_model), precision="4bit")
        hf.model_args(four_bit, locate(four_bit, tmp_path), device="cpu", batch_size=8)


def test_every_registered_backend_answers_the_protocol() -> None:
    """The harness asks these questions instead of testing names (harness/backends/base.py)."""
    for name in backends.REGISTRY:
        backend = backends.get(name)
        assert backend.name == name
        assert (backend.reference_prefix is None) == (backend.reference_form is None)
        # A backend that serves only its own references is never auto's pick for another model.
        assert backend.reference_prefix is None or backend.auto_rank is None
    assert [name for name in backends.REGISTRY if backends.get(name).evaluates_in_memory] == ["hf"]
    assert backends.names() == ("auto", "hf", "vllm", "openai")


def test_a_worker_refuses_an_unknown_backend_before_its_first_job(tmp_path: Path) -> None:
    from app.config import Settings
    from app.worker.loop import WorkerSettingsError, run_worker

    settings = Settings(home=tmp_path, worker_backend="tgi")
    with pytest.raises(
        WorkerSettingsError, match="EVALBOARD_WORKER_BACKEND: unknown backend 'tgi'; choose one of"
    ):
        run_worker(settings, max_jobs=0)
    assert not (tmp_path / "worker.lock").exists()  # refused before it took the SQLite worker lock
