"""Ko-H5: the Open Ko-LLM Leaderboard's season 1 (Park et al., ACL 2024), as private-set templates.

Its five sets are held privately by their owners (Upstage for Ko-ARC, Ko-HellaSwag, Ko-MMLU and
Ko-TruthfulQA; Korea University's NLP&AI Lab for Ko-CommonGen v2), so each benchmark here is a
template: the task config (benchmarks/tasks/ko_leaderboard/<name>.yaml), few-shot count, metric and
chance level the leaderboard used, run on a bundled sample written for evalboard until an operator
who holds the set registers it:

    evalboard private add ko_arc --template ko-h5/ko_arc --data ko_arc.jsonl

Few-shot counts and metrics are the leaderboard's (the English Open LLM Leaderboard's settings for
the four translated sets, 2-shot acc_norm for Ko-CommonGen v2, as its maintainers stated on the
leaderboard's discussion board); the README's "Ko-H5 templates" table says what we could not confirm.
"""

from benchmarks.spec import BenchmarkSpec, Suite, template_benchmark

SUITE_NAME = "ko-h5"
VERSION = "1.0"
LICENCE = "held by the owners; bundled: written for evalboard"
PAPER = "Park et al. 2024, Open Ko-LLM Leaderboard (ACL 2024, arXiv:2405.20574)"
FOUR_CHOICES = 0.25


def _template(
    name: str,
    display: str,
    num_fewshot: int,
    primary_metric: str,
    random_baseline: float,
    description: str,
    size: str,
    source: str,
) -> BenchmarkSpec:
    return template_benchmark(
        SUITE_NAME,
        name,
        display_en=display,
        display_ko=display,
        num_fewshot=num_fewshot,
        primary_metric=primary_metric,
        random_baseline=random_baseline,
        version=VERSION,
        description=description,
        size=size,
        licence=LICENCE,
        source=source,
    )


KO_H5_BENCHMARKS = (
    _template(
        "ko_arc",
        "Ko-ARC",
        25,
        "acc_norm",
        FOUR_CHOICES,
        "Grade-school science questions (ARC-Challenge translated into Korean and reviewed by people).",
        "about 1.1K test items (private)",
        f"{PAPER}; ARC: Clark et al. 2018, arXiv:1803.05457",
    ),
    _template(
        "ko_hellaswag",
        "Ko-HellaSwag",
        10,
        "acc_norm",
        FOUR_CHOICES,
        "Commonsense sentence completion: pick the natural continuation of a Korean scene.",
        "about 10.0K items (private)",
        f"{PAPER}; HellaSwag: Zellers et al. 2019, arXiv:1905.07830",
    ),
    _template(
        "ko_mmlu",
        "Ko-MMLU",
        5,
        "acc",
        FOUR_CHOICES,
        "Four-choice knowledge questions across school and professional subjects, adapted to Korea.",
        "about 14.0K items (private)",
        f"{PAPER}; MMLU: Hendrycks et al. 2021, arXiv:2009.03300",
    ),
    _template(
        "ko_truthfulqa",
        "Ko-TruthfulQA",
        0,
        "acc",  # lm-eval's name for MC2, the probability mass on the true answers
        0.0,  # MC2 is a normalised probability mass, not a pick among n (as in open-llm-v1)
        "Whether a model prefers true answers over common misconceptions (MC2).",
        "about 0.8K items (private)",
        f"{PAPER}; TruthfulQA: Lin et al. 2022, arXiv:2109.07958",
    ),
    _template(
        "ko_commongen_v2",
        "Ko-CommonGen v2",
        2,
        "acc_norm",
        FOUR_CHOICES,
        "Given Korean concept words, pick the grammatical sentence that fits Korean common sense.",
        "847 test items (published by its authors in 2024 as nlpai-lab/ko_commongen_v2)",
        "Seo et al. 2024, KoCommonGEN v2 (Findings of ACL 2024); " + PAPER,
    ),
)

KO_H5 = Suite(
    name=SUITE_NAME,
    title_en="Open Ko-LLM Leaderboard season 1 (Ko-H5)",
    title_ko="Open Ko-LLM 리더보드 시즌 1 (Ko-H5)",
    description=(
        "The five Ko-H5 benchmarks as the Open Ko-LLM Leaderboard ran them: Ko-ARC (25-shot), "
        "Ko-HellaSwag (10-shot), Ko-MMLU (5-shot), Ko-TruthfulQA (0-shot, MC2) and Ko-CommonGen v2 "
        "(2-shot). Their sets are held privately by their owners; until an operator who holds one "
        "registers it (`evalboard private add ko_arc --template ko-h5/ko_arc --data FILE`), each runs "
        "on a bundled sample written for evalboard, its offline stand-in."
    ),
    benchmarks=KO_H5_BENCHMARKS,
)
