"""Adapter weights are evaluated on their base model through lm-eval's peft= path."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.catalog import SMOKE
from benchmarks.target import ModelTarget
from harness.runner import run_suite
from tests.conftest import SHARED_MODEL_CACHE

pytestmark = pytest.mark.e2e
BASE = "bundled:smollm2-135m-instruct"


def make_identity_lora(base_dir: Path, out: Path) -> Path:
    """A freshly initialised LoRA adapter: peft starts lora_B at zero, so it changes nothing."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base_dir)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    peft_model.save_pretrained(out)
    return out


def test_untrained_adapter_scores_exactly_like_its_base(tmp_path: Path, converted_model_dir: Path) -> None:
    adapter = make_identity_lora(converted_model_dir, tmp_path / "adapter")
    assert (adapter / "adapter_config.json").is_file()
    base = ModelTarget(BASE, "bundled", "bundled", None, "float32", use_chat_template=True)
    tuned = ModelTarget(
        str(adapter),
        "local",
        "local",
        None,
        "float32",
        weight_type="adapter",
        base_model=BASE,
        use_chat_template=True,
    )
    base_out = run_suite(base, SMOKE, cache_dir=SHARED_MODEL_CACHE, output_dir=tmp_path / "base", limit=6)
    tuned_out = run_suite(tuned, SMOKE, cache_dir=SHARED_MODEL_CACHE, output_dir=tmp_path / "tuned", limit=6)
    assert tuned_out.model_args["peft"] == str(adapter)
    assert tuned_out.model_args["pretrained"] == str(converted_model_dir)
    assert [(m.benchmark, m.metric, m.value) for m in tuned_out.metrics] == [
        (m.benchmark, m.metric, m.value) for m in base_out.metrics
    ]
