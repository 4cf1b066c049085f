"""QLoRA on a CUDA host: the 4-bit path of training/pipeline.py, end to end.

Loads --model-dir through pipeline.prepare twice, as LoRA on bfloat16 weights and as QLoRA on
4-bit NF4 weights (bitsandbytes), trains the same rows for --steps optimizer steps with
evalboard's loop, and prints for each: loss on the training rows before and after, tokens/s,
peak GPU memory, and the saved adapter's files. Exits non-zero when a check fails (loss did not
fall, no adapter). Needs CUDA and bitsandbytes; on a CPU host it prints why it cannot run.

    python3 bench/qlora_check.py --model-dir DIR [--steps 30]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.finetune.dataset import parse_examples  # noqa: E402
from benchmarks.target import ModelTarget  # noqa: E402
from benchmarks.training_params import TrainingParams  # noqa: E402
from training.pipeline import prepare  # noqa: E402
from training.train import mean_loss, save_adapter, train  # noqa: E402

DATASET = REPO / "tests" / "data" / "finetune" / "alpaca_ko_en.jsonl"


def run(model_dir: str, quantization: str, steps: int, work: Path) -> dict[str, object]:
    import torch

    torch.cuda.reset_peak_memory_stats()
    examples = parse_examples(DATASET.read_bytes())
    conversations = [[{"role": r, "content": c} for r, c in e.messages] for e in examples]
    params = TrainingParams(
        max_steps=steps, batch_size=4, learning_rate=1e-3, quantization=quantization, lora_dropout=0.0
    )
    target = ModelTarget(model_dir, "local", "main", None, "bfloat16")
    prepared = prepare(target, conversations, params, cache_dir=work / "cache", device="cuda")
    pad = prepared.tokenizer.pad_token_id
    before = mean_loss(prepared.model, prepared.data.rows, 4, pad)
    outcome = train(prepared.model, prepared.data.rows, params, pad_id=pad)
    after = mean_loss(prepared.model, prepared.data.rows, 4, pad)
    folder = save_adapter(prepared.model, prepared.tokenizer, work / f"adapter-{quantization}")
    quantized = sum(1 for m in prepared.model.modules() if type(m).__name__ == "Linear4bit")
    return {
        "quantization": quantization,
        "loss_before": round(before, 4),
        "loss_after": round(after, 4),
        "tokens_per_second": round(outcome.tokens / outcome.seconds, 1),
        "peak_gpu_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1),
        "linear4bit_modules": quantized,
        "adapter_files": sorted(p.name for p in folder.iterdir()),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("no CUDA GPU here: QLoRA (bitsandbytes 4-bit) needs one; nothing measured")
        return
    work = Path(tempfile.mkdtemp(prefix="evalboard-qlora-"))
    results = [run(args.model_dir, quantization, args.steps, work) for quantization in ("none", "4bit")]
    failed = []
    for result in results:
        print(json.dumps(result))
        if not result["loss_after"] < result["loss_before"]:  # type: ignore[operator]
            failed.append(f"{result['quantization']}: loss did not fall")
        if "adapter_model.safetensors" not in result["adapter_files"]:  # type: ignore[operator]
            failed.append(f"{result['quantization']}: no adapter saved")
    if not results[1]["linear4bit_modules"]:
        failed.append("4bit: no Linear4bit module in the model")
    out = REPO / "bench" / "results" / "qlora_check.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"gpu": torch.cuda.get_device_name(), "runs": results}, indent=2))
    print(f"wrote {out}")
    if failed:
        sys.exit("; ".join(failed))


if __name__ == "__main__":
    main()
