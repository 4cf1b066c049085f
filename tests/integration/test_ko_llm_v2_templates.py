"""The ko-llm-v2 private-set templates: every template's task builds in lm-eval and renders every
bundled item with its few-shot, the stand-ins have the schema an operator's file must follow, and
the two hooks lm-eval cannot supply (KorNAT's A-SVA, Korean IFEval on English checkers) score as
documented. No model runs here: the scoring hooks get hand-made model outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from benchmarks.bundled_data import BUNDLED_DATA_DIR, read_jsonl
from benchmarks.catalog import TASKS_DIR
from benchmarks.environment import FALLBACK_NLTK_DATA
from benchmarks.suites.ko_llm_v2 import KO_LLM_V2
from harness.task_index import check

TEMPLATE_DIR = TASKS_DIR / "ko_leaderboard"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
# The fields each template's task reads, as README "Private-set templates" documents them.
SCHEMAS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "ko_gpqa": {
        "Question": str,
        "Correct Answer": str,
        "Incorrect Answer 1": str,
        "Incorrect Answer 2": str,
        "Incorrect Answer 3": str,
    },
    "ko_winogrande": {"sentence": str, "option1": str, "option2": str, "answer": str},
    "ko_gsm8k": {"question": str, "answer": str},
    "ko_eqbench": {"prompt": str, "reference_answer": str, "reference_answer_fullscale": str},
    "ko_ifeval": {"key": int, "prompt": str, "instruction_id_list": list, "kwargs": list},
    "kornat_knowledge": {"subject": str, "question": str, "choices": list, "answer": int},
    "kornat_social_values": {"question": str, "distribution": list},
    "ko_harmlessness": {"prompt": str, "chosen": str, "rejected": str},
    "ko_helpfulness": {"prompt": str, "chosen": str, "rejected": str},
}
SPECS = {spec.name: spec for spec in KO_LLM_V2.benchmarks}


def test_the_suite_holds_one_template_per_season_2_benchmark() -> None:
    assert set(SPECS) == set(SCHEMAS)
    for name, spec in SPECS.items():
        assert spec.template == f"ko-llm-v2/{name}"
        assert spec.task == f"evalboard_{name}" and spec.bundled_task is None
        assert spec.language == "ko" and not spec.hub_datasets
        assert spec.licence == "held by the owners; bundled: written for evalboard"
        assert spec.size and spec.source and spec.description
        assert 0.0 <= spec.random_baseline < 1.0
        config = (TEMPLATE_DIR / f"{name}.yaml").read_text("utf-8")
        # The lines the registration swaps for the operator's data, exactly as the brief fixes them.
        assert f"task: {spec.task}\n" in config
        assert "custom_dataset: !function benchmarks.bundled_data.load\n" in config
        assert f"dataset_kwargs:\n  bundle: {name}\n" in config
        assert "test_split: test\n" in config
        assert f"num_fewshot: {spec.num_fewshot}\n" in config
        assert ("fewshot_split: train\n" in config) == (spec.num_fewshot > 0)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_bundled_stand_in_has_20_korean_items_in_the_template_schema(name: str) -> None:
    spec = SPECS[name]
    splits = {path.stem: read_jsonl(path) for path in (BUNDLED_DATA_DIR / name).glob("*.jsonl")}
    assert len(splits["test"]) >= 20, f"{name}: {len(splits['test'])} items"
    assert set(splits) == ({"test", "train"} if spec.num_fewshot else {"test"})
    if spec.num_fewshot:
        assert len(splits["train"]) >= spec.num_fewshot + 1
    for split, items in splits.items():
        for number, item in enumerate(items, start=1):
            where = f"{name}/{split}.jsonl line {number}"
            assert set(item) == set(SCHEMAS[name]), where
            for field, kind in SCHEMAS[name].items():
                assert isinstance(item[field], kind) and not isinstance(item[field], bool), (
                    f"{where}: {field}"
                )
            assert HANGUL.search(json.dumps(item, ensure_ascii=False)), f"{where}: no Korean text"


@pytest.mark.parametrize("fewshot", sorted({spec.num_fewshot for spec in KO_LLM_V2.benchmarks}))
def test_every_template_builds_and_renders_every_item_with_its_fewshot(fewshot: int) -> None:
    tasks = [spec.task for spec in KO_LLM_V2.benchmarks if spec.num_fewshot == fewshot]
    assert check(tasks, fewshot, show=False) == 0


def test_kornat_social_values_scores_the_share_of_respondents_on_the_models_side() -> None:
    from benchmarks.tasks.ko_leaderboard import ko_llm_v2_utils as hooks

    doc = {"question": "...", "distribution": [10, 20, 30, 25, 15]}  # counts: the hook rescales them
    # Log-likelihoods per option; per character, "동의한다" (index 3) is the likeliest.
    lengths = [len(option) for option in hooks.LIKERT_OPTIONS]
    per_char = [-3.0, -2.5, -2.0, -0.5, -1.0]
    results = [(rate * length, False) for rate, length in zip(per_char, lengths, strict=True)]
    scores = hooks.social_value_alignment(doc, results)
    assert scores["SVA"] == pytest.approx(0.25)
    assert scores["A-SVA"] == pytest.approx(0.40)  # agree + strongly agree
    assert hooks.majority_option(doc) == 2
    # The raw log-likelihood favours the short "보통이다" (-1.0); per character "매우 동의한다" wins.
    raw = [(-5.0, False), (-4.0, False), (-1.0, False), (-1.2, False), (-1.5, False)]
    scores = hooks.social_value_alignment(doc, raw)
    assert scores["SVA"] == pytest.approx(0.15) and scores["A-SVA"] == pytest.approx(0.40)
    with pytest.raises(ValueError, match="distribution"):
        hooks.survey_shares({"distribution": [1, 2, 3]})


# For each single-instruction Ko-IFEval item: a Korean reply that follows it and one that does not.
IFEVAL_REPLIES: dict[str, tuple[str, str]] = {
    "language:response_language": (
        "어린이 독서 교실에 초대합니다. 매주 토요일 오전에 그림책을 함께 읽고 이야기를 나눕니다.",
        "Welcome to the children's reading class every Saturday morning at the library.",
    ),
    "detectable_format:number_bullet_lists": (
        "* 요리 배우기\n* 등산하기\n* 그림 그리기\n* 악기 연주하기",
        "* 요리 배우기\n* 등산하기",
    ),
    "detectable_format:title": ("<<가을 산길>>\n붉은 잎 밟으며 천천히 오른다", "가을 산길\n붉은 잎 밟으며"),
    "detectable_format:number_highlighted_sections": (
        "*텐트*와 *침낭*은 꼭 챙기고 *랜턴*도 잊지 마세요.",
        "*텐트*는 꼭 챙기세요.",
    ),
    "detectable_format:multiple_sections": (
        "섹션 1\n시식 행사\n섹션 2\n전단지 배포\n섹션 3\n단골 적립",
        "섹션 1\n시식 행사",
    ),
    "detectable_format:json_format": (
        '{"서울": "설렁탕", "부산": "돼지국밥", "대구": "막창"}',
        "서울은 설렁탕입니다.",
    ),
    "detectable_content:number_placeholders": (
        "점검일은 [날짜], 시간은 [시간]입니다.",
        "점검일은 내일입니다.",
    ),
    "detectable_content:postscript": ("잘 지내니? 보고 싶다.\n추신: 사진 보낼게.", "잘 지내니? 보고 싶다."),
    "keywords:existence": ("페트병은 헹구고 종이팩은 펼쳐서 말립니다.", "페트병은 헹궈서 버립니다."),
    "keywords:frequency": ("가습기를 켜고, 가습기 물을 갈고, 가습기를 닦으세요.", "가습기를 켜세요."),
    "length_constraints:number_words": ("목과 어깨를 천천히 돌려 주세요.", " ".join(["스트레칭"] * 60)),
    "length_constraints:number_paragraphs": (
        "작게 시작한다.\n***\n매일 한다.\n***\n기록한다.",
        "작게 시작한다.",
    ),
    "startend:end_checker": (
        "보드게임을 해 보세요. 즐거운 하루 보내세요.",
        "즐거운 하루 보내세요. 보드게임도 좋아요.",
    ),
    "startend:quotation": ('"지하철에서는 조용히 통화합니다."', "지하철에서는 조용히 통화합니다."),
    "combination:repeat_prompt": (
        "초등학생에게 저축의 중요성을 설명하는 방법은 무엇인가요? 저금통으로 시작해 보세요.",
        "저금통으로 시작해 보세요.",
    ),
    "combination:two_responses": (
        "취미 이야기를 꺼내 보세요.\n******\n요즘 본 영화를 물어보세요.",
        "취미 이야기를 꺼내 보세요.",
    ),
    "punctuation:no_comma": ("바다는 시원하고 산은 조용합니다.", "바다는 시원하고, 산은 조용합니다."),
}


@pytest.fixture
def ifeval_checkers(monkeypatch: pytest.MonkeyPatch) -> Any:
    # NLTK data from the repository: the checkers' module looks for its tokenizer data on import.
    monkeypatch.setenv("NLTK_DATA", str(FALLBACK_NLTK_DATA))
    from lm_eval.tasks.leaderboard.ifeval import utils

    return utils


def test_korean_ifeval_instructions_are_decided_by_lm_evals_english_checkers(ifeval_checkers: Any) -> None:
    items = read_jsonl(Path(BUNDLED_DATA_DIR / "ko_ifeval" / "test.jsonl"))
    used = {instruction for item in items for instruction in item["instruction_id_list"]}
    assert used == set(IFEVAL_REPLIES), "every instruction the stand-in uses has a checked reply"
    checked = set()
    for item in items:
        if len(item["instruction_id_list"]) != 1 or item["instruction_id_list"][0] in checked:
            continue
        instruction = item["instruction_id_list"][0]
        follows, breaks = IFEVAL_REPLIES[instruction]
        assert ifeval_checkers.process_results(item, [follows])["prompt_level_strict_acc"], instruction
        assert not ifeval_checkers.process_results(item, [breaks])["prompt_level_strict_acc"], instruction
        checked.add(instruction)
    assert checked == used
