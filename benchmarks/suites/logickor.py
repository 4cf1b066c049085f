"""logickor: Korean two-turn questions in LogicKor's published schema, graded MT-Bench style by the
LLM judge (harness/judged.py).

The bundled items are written for evalboard in LogicKor's schema (one JSON object per line: id,
category, questions, references): 4 in each of its six categories (추론(Reasoning), 수학(Math),
글쓰기(Writing), 코딩(Coding), 이해(Understanding), 문법(Grammar)), two turns each, references where
a turn has one right answer and null (or none) where it is open-ended. Each turn is rated 1-10, the
second in the context of the first, against its reference where it has one.

The real set (maywell/LogicKor, 42 questions, CC BY-SA 4.0) is saved by `evalboard datasets pull`
(its questions.jsonl, unchanged) and a run uses it wherever it is saved. LogicKor's own grading
script uses its own judge prompt and a 0-10 scale; this benchmark grades with evalboard's
MT-Bench-style prompts, so its scores are comparable with each other, not with LogicKor's board.
"""

from __future__ import annotations

from benchmarks.spec import BenchmarkSpec, JudgeSpec, Suite
from benchmarks.suites.judge import JUDGE_NOTE

KO_LOGICKOR = BenchmarkSpec(
    name="ko_logickor",
    task="evalboard_judge_ko_logickor",
    display_en="LogicKor-style (Korean, judge rating)",
    display_ko="LogicKor 방식 (한국어, 심사 점수)",
    num_fewshot=0,
    primary_metric="mt_bench",
    language="ko",
    random_baseline=0.0,
    version="1.0",
    request_type="generate",
    judge=JudgeSpec("single", "ko", "judge_ko_logickor", hub_file="questions.jsonl"),
    hub_datasets=(("maywell/LogicKor", None),),
    description=(
        "Two-turn Korean questions in reasoning, math, writing, coding, reading comprehension and Korean "
        "grammar; the judge rates each answer 1-10 ([[rating]]), the second turn in the context of the "
        "first, against the turn's reference answer where it has one. Score: mean rating / 10. Answers "
        "that are not in Korean get the lowest rating (1)."
    ),
    size="24 bundled two-turn questions, 4 per category (LogicKor: 42)",
    licence="bundled: written for evalboard; LogicKor: CC BY-SA 4.0",
    source="LogicKor (Park, 2024; github.com/instructkr/LogicKor); dataset maywell/LogicKor",
)

LOGICKOR = Suite(
    name="logickor",
    title_en="LogicKor-style (Korean, LLM judge)",
    title_ko="LogicKor 방식 (한국어, LLM 심사)",
    description="Korean two-turn questions in six categories, rated 1-10 by the judge. " + JUDGE_NOTE,
    benchmarks=(KO_LOGICKOR,),
)
