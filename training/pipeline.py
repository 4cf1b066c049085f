"""Load the base model, train its LoRA adapter, save it, and hand the model still in memory to
lm-eval: the tuned model is scored without being written out and read back in first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from benchmarks.target import ModelLoadError, ModelTarget
from benchmarks.training_params import TrainingParams
from harness.backends import hf
from harness.backends.weights import Weights, locate
from training.examples import TokenizedData, pack, tokenize
from training.train import TrainingError, lora_model

TORCH_DTYPES = {"float32": "float32", "bfloat16": "bfloat16", "float16": "float16"}


@dataclass
class Prepared:
    model: Any  # PeftModel, trainable adapter on a frozen base
    tokenizer: Any
    device: str
    weights: Weights  # where the base came from
    data: TokenizedData


def quantization_config(params: TrainingParams, device: str) -> Any:
    """QLoRA: the frozen base in 4-bit NF4 with bfloat16 compute (bitsandbytes, CUDA only)."""
    if params.quantization != "4bit":
        return None
    if not device.startswith("cuda"):
        raise TrainingError(
            "quantization 4bit (QLoRA) needs a CUDA GPU with bitsandbytes and this worker has none; "
            "set quantization to none"
        )
    if find_spec("bitsandbytes") is None:
        raise TrainingError("quantization 4bit needs bitsandbytes on this worker (pip install bitsandbytes)")
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )


def load_base(
    target: ModelTarget, params: TrainingParams, *, cache_dir: Path, device: str
) -> tuple[Any, Any, Weights]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    weights = locate(target, cache_dir)
    quantization = quantization_config(params, device)
    dtype = getattr(torch, TORCH_DTYPES.get(target.precision, "float32"))
    try:
        tokenizer = AutoTokenizer.from_pretrained(weights.pretrained, revision=weights.revision)
        model = AutoModelForCausalLM.from_pretrained(
            weights.pretrained,
            revision=weights.revision,
            dtype=torch.bfloat16 if quantization else dtype,
            quantization_config=quantization,
            device_map={"": device} if quantization else None,
        )
    except Exception as exc:
        raise ModelLoadError(
            f"could not load base model {target.reference}: {type(exc).__name__}: {exc}"
        ) from exc
    if quantization is None:
        model.to(device)  # type: ignore[arg-type]  # a device name: what .to() takes at run time
    else:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.use_cache = False  # training: no KV cache to keep
    return model, tokenizer, weights


def prepare(
    target: ModelTarget,
    conversations: Sequence[Sequence[dict[str, str]]],
    params: TrainingParams,
    *,
    cache_dir: Path,
    device: str = "auto",
) -> Prepared:
    device = hf.pick_device(device)
    base, tokenizer, weights = load_base(target, params, cache_dir=cache_dir, device=device)
    data = tokenize(tokenizer, conversations, params.max_seq_length)
    if not data.rows:
        raise TrainingError(
            f"no example has an answer token within max_seq_length {params.max_seq_length}; raise it"
        )
    if params.packing:
        data.rows = pack(data.rows, params.max_seq_length)
    return Prepared(lora_model(base, params), tokenizer, device, weights, data)


def in_memory_lm(prepared: Prepared, adapter_target: ModelTarget, *, cache_dir: Path, batch_size: int) -> Any:
    """lm-eval's HFLM around the trained PeftModel, as a LoadedModel of the hf backend. Its
    arguments and commit are those of the saved adapter, so the results' provenance, reproduce line
    and response cache key are exactly what a later evaluation from the adapter folder would record."""
    from lm_eval.models.huggingface import HFLM

    from harness.backends.base import LoadedModel

    weights = locate(adapter_target, cache_dir)
    args = hf.model_args(adapter_target, weights, device=prepared.device, batch_size=batch_size)
    prepared.model.eval()
    prepared.model.config.use_cache = True
    lm = HFLM(pretrained=prepared.model, tokenizer=prepared.tokenizer, batch_size=batch_size)
    return LoadedModel(hf.BACKEND.name, args, lm, weights.commit, prepared.device)
