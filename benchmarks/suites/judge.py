"""judge-ko and judge-en: open-ended answers graded by an LLM judge (harness/judged.py).

Each suite has two benchmarks over bundled items written for evalboard in the real sets' schemas:
- MT-Bench-style: 24 two-turn questions, 3 in each of MT-Bench's 8 categories, graded 1-10 per
  turn, against reference answers in math, reasoning and coding (MT-Bench's question.jsonl
  schema). Real sets: MT-Bench (80 questions; HuggingFaceH4/mt_bench_prompts, Apache-2.0) and
  KoMT-Bench (its Korean adaptation; LGAI-EXAONE/KoMT-Bench).
- AlpacaEval-style: 24 instructions with a reference model's outputs (AlpacaEval's schema:
  instruction, output, generator), judged pairwise in both orders; length-controlled win rate.
  Real sets: AlpacaEval (805 instructions; tatsu-lab/alpaca_eval, config
  alpaca_eval_gpt4_baseline, CC BY-NC 4.0) and a Korean translation (heegyu/alpaca_eval_ko,
  Apache-2.0).
The real sets are documented, not wired to the hub: these scores rank on the sample-data board.
"""

from benchmarks.spec import BenchmarkSpec, JudgeSpec, Suite

JUDGE_NOTE = (
    "The judge is the server's configured OpenAI-compatible endpoint (EVALBOARD_JUDGE_*), or in the embedded "
    "default the bundled SmolLM2-135M-Instruct, a weak judge that only proves the pipeline. Judge model and "
    "prompt version are recorded with every score."
)


def _mt_bench(lang: str, display_ko: str, hub: str) -> BenchmarkSpec:
    return BenchmarkSpec(
        name=f"{lang}_mt_bench",
        task=f"evalboard_judge_{lang}_mt_bench",
        display_en=f"MT-Bench-style ({lang}, judge rating)",
        display_ko=display_ko,
        num_fewshot=0,
        primary_metric="mt_bench",
        language=lang,
        random_baseline=0.0,
        version="1.0",
        request_type="generate",
        judge=JudgeSpec("single", lang, f"judge_{lang}_mt_bench"),
        description=(
            "Two-turn questions in writing, roleplay, reasoning, math, coding, extraction, STEM and "
            "humanities; the judge rates each answer 1-10 ([[rating]]), the second turn in the context of "
            "the first, math, reasoning and coding against reference answers. Score: mean rating / 10."
            + (
                " Answers to these Korean questions that are not in Korean get the lowest rating (1)."
                if lang == "ko"
                else ""
            )
        ),
        size="24 bundled two-turn questions (MT-Bench: 80)",
        licence="bundled: written for evalboard; MT-Bench prompts: Apache-2.0",
        source=f"Zheng et al. 2023, Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena; dataset {hub}",
    )


def _pairwise(lang: str, display_ko: str, hub: str) -> BenchmarkSpec:
    return BenchmarkSpec(
        name=f"{lang}_alpaca_eval",
        task=f"evalboard_judge_{lang}_alpaca_eval",
        display_en=f"AlpacaEval-style ({lang}, LC win rate)",
        display_ko=display_ko,
        num_fewshot=0,
        primary_metric="lc_win_rate",
        language=lang,
        random_baseline=0.0,
        version="1.0",
        request_type="generate",
        judge=JudgeSpec("pairwise", lang, f"judge_{lang}_pairwise"),
        description=(
            "Instructions answered by the model and compared with a reference model's outputs by the "
            "judge, in both orders (an item is a win only if it wins both); length-controlled win rate: a "
            "logistic fit of the outcome on the length difference, read at zero difference. The plain win "
            "rate is kept beside it."
        ),
        size="24 bundled instructions (AlpacaEval: 805)",
        licence="bundled: written for evalboard; AlpacaEval: CC BY-NC 4.0",
        source=f"Dubois et al. 2024, Length-Controlled AlpacaEval; dataset {hub}",
    )


JUDGE_KO = Suite(
    name="judge-ko",
    title_en="LLM judge (Korean)",
    title_ko="LLM 심사 (한국어)",
    description="Korean two-turn questions rated 1-10 and Korean instructions judged pairwise. " + JUDGE_NOTE,
    benchmarks=(
        _mt_bench("ko", "MT-Bench 방식 (한국어, 심사 점수)", "LGAI-EXAONE/KoMT-Bench"),
        _pairwise("ko", "AlpacaEval 방식 (한국어, 길이 보정 승률)", "heegyu/alpaca_eval_ko"),
    ),
)

JUDGE_EN = Suite(
    name="judge-en",
    title_en="LLM judge (English)",
    title_ko="LLM 심사 (영어)",
    description="English two-turn questions rated 1-10 and English instructions judged pairwise. "
    + JUDGE_NOTE,
    benchmarks=(
        _mt_bench("en", "MT-Bench 방식 (영어, 심사 점수)", "HuggingFaceH4/mt_bench_prompts"),
        _pairwise(
            "en",
            "AlpacaEval 방식 (영어, 길이 보정 승률)",
            "tatsu-lab/alpaca_eval (alpaca_eval_gpt4_baseline)",
        ),
    ),
)
