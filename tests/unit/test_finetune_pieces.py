"""The fine-tune building blocks: loss masks, packing, step counts, contamination n-grams, bounds."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.worker.finetune_child import MAX_LOSS_POINTS, contamination_flag, thin
from benchmarks.training_params import TrainingParams
from training.contamination import (
    BenchmarkItem,
    find_overlaps,
    normalized_tokens,
    report,
)
from training.examples import IGNORE, answer_spans, pack, tokenize
from training.train import batches, total_steps

CHAT = [
    {"role": "system", "content": "You are brief."},
    {"role": "user", "content": "한국의 수도는?"},
    {"role": "assistant", "content": "서울입니다."},
    {"role": "user", "content": "And of France?"},
    {"role": "assistant", "content": "Paris."},
]


@pytest.fixture(scope="module")
def tokenizer(converted_model_dir: Path):  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(converted_model_dir)


def test_only_the_assistant_turns_are_trained(tokenizer) -> None:  # type: ignore[no-untyped-def]
    data = tokenize(tokenizer, [CHAT], max_length=512)
    [(ids, labels)] = data.rows
    trained = tokenizer.decode([t for t, label in zip(ids, labels, strict=True) if label != IGNORE])
    assert trained == "서울입니다.<|im_end|>\nParis.<|im_end|>\n"
    assert "수도" not in trained and "France" not in trained and data.unmasked == 0
    text, spans = answer_spans(tokenizer, CHAT)
    assert [text[start:end] for start, end in spans] == ["서울입니다.<|im_end|>\n", "Paris.<|im_end|>\n"]


def test_truncation_drops_rows_whose_answer_is_cut_off(tokenizer) -> None:  # type: ignore[no-untyped-def]
    long_question = [{"role": "user", "content": "단어 " * 200}, {"role": "assistant", "content": "네"}]
    data = tokenize(tokenizer, [long_question, CHAT], max_length=160)  # CHAT fits in 160
    assert data.dropped == 1 and data.truncated == 1 and len(data.rows) == 1


def test_a_tokenizer_without_a_chat_template_gets_a_plain_transcript_and_eos(tokenizer) -> None:  # type: ignore[no-untyped-def]
    tokenizer = tokenizer.__class__.from_pretrained(tokenizer.name_or_path)
    tokenizer.chat_template = None
    [(ids, labels)] = tokenize(tokenizer, [CHAT[1:3]], max_length=512).rows
    assert tokenizer.decode(ids).startswith("### Instruction:\n한국의 수도는?")
    trained = [t for t, label in zip(ids, labels, strict=True) if label != IGNORE]
    assert trained[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(trained[:-1]) == "서울입니다.\n\n"


def test_packing_fills_rows_keeps_labels_aligned_and_drops_a_row_with_nothing_to_predict() -> None:
    rows = [([1, 2, 3], [IGNORE, 2, 3]), ([4, 5], [IGNORE, 5]), ([6, 7, 8, 9], [IGNORE, IGNORE, 8, 9])]
    packed = pack(rows, 4)
    # The leftover [9] alone predicts nothing (a row's first label is never predicted): dropped.
    assert [ids for ids, _ in packed] == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert [labels for _, labels in packed] == [[IGNORE, 2, 3, IGNORE], [5, IGNORE, IGNORE, 8]]


def test_steps_from_epochs_and_max_steps_and_seeded_batches() -> None:
    assert total_steps(TrainingParams(batch_size=4, epochs=2), rows=10) == 6
    assert total_steps(TrainingParams(batch_size=4, grad_accum=2, epochs=1), rows=10) == 2
    assert total_steps(TrainingParams(max_steps=7, epochs=5), rows=1000) == 7
    first = batches([([1], [1])] * 10, 4, seed=1, epoch=0)
    assert first == batches([([1], [1])] * 10, 4, seed=1, epoch=0) != batches([([1], [1])] * 10, 4, 1, 1)
    assert sorted(i for batch in first for i in batch) == list(range(10))


@pytest.mark.parametrize(
    ("field", "value"),
    [("lora_r", 0), ("lora_alpha", 0), ("lora_dropout", 1.0), ("learning_rate", 0), ("max_steps", 0),
     ("batch_size", 0), ("max_seq_length", 8), ("epochs", 0), ("quantization", "8bit"),
     ("target_modules", ["q_proj;rm"]), ("target_modules", [])],
)  # fmt: skip
def test_training_settings_out_of_bounds_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as error:
        TrainingParams.model_validate({field: value})
    assert error.value.errors()[0]["loc"] == (field,)


def test_normalization_reads_hangul_and_ignores_case_and_punctuation() -> None:
    assert normalized_tokens("서울은 한국의 수도다! THE Capital, of KOREA.") == [
        "서울은", "한국의", "수도다", "the", "capital", "of", "korea",
    ]  # fmt: skip


def test_overlaps_by_13_grams_and_whole_short_items() -> None:
    long_item = "the quick brown fox jumps over the lazy dog near the quiet river bank today"
    items = [
        BenchmarkItem("arc", "arc_task", 3, long_item),
        BenchmarkItem("ko", "ko_task", 0, "가 나 다 라 마 바 사 아"),  # 8 tokens: matched whole
        BenchmarkItem("tiny", "tiny_task", 0, "예 아니오"),  # too short to mean anything
    ]
    examples = [
        (1, "Intro. The quick brown FOX jumps over the lazy dog, near the quiet river bank! Then more."),
        (2, "the quick brown fox jumps over the lazy dog near the quiet"),  # 12 of 13 tokens
        (3, "답: 가 나 다 라 마 바 사 아 입니다"),
        (4, "예 아니오 예 아니오"),
    ]
    overlaps = find_overlaps(examples, items)
    assert [(o.line, o.benchmark, o.item) for o in overlaps] == [(1, "arc", 3), (3, "ko", 0)]
    summary = report(overlaps, items_checked=3, benchmarks=["arc", "ko", "tiny"])
    assert summary["overlap_count"] == 2 and summary["contaminated_benchmarks"] == ["arc", "ko"]
    assert contamination_flag(summary) == ["contaminated: training data shares 13-grams with arc, ko"]
    assert contamination_flag(report([], 3, ["arc"])) == []


def test_the_stored_loss_curve_is_thinned_but_keeps_its_ends() -> None:
    points = [[step, 1.0 / step] for step in range(1, 5001)]
    thinned = thin(points)
    assert len(thinned) <= MAX_LOSS_POINTS
    assert thinned[0] == [1, 1.0] and thinned[-1] == points[-1]
    assert thin(points[:10]) == points[:10]
