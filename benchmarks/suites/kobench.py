"""KoBench: Korean benchmarks with public datasets, run through lm-eval's own tasks: KoBEST (5),
KMMLU, HAE-RAE, CLIcK, Korean GSM8K (HRM8K), Global-MMLU Korean and KorMedMCQA.

Every benchmark has a real dataset, so a server that saved them (`evalboard datasets pull`) or
reaches the hub ranks KoBench on the real-data board; each also has a bundled sample written for
evalboard in the same schema for offline runs. The Open Ko-LLM Leaderboard's own sets (Ko-CommonGen
v2, Ko-WinoGrande, Ko-GSM8K, ...) are held privately by their owners: they are the private-set
templates of the ko-h5 and ko-llm-v2 suites.
"""

from benchmarks.spec import GROUP, BenchmarkSpec, Suite

KOBEST_SOURCE = "Jang et al. 2022, KoBEST (COLING), dataset skt/kobest_v1"
KOBEST_LICENCE = "CC BY-SA 4.0"


def _kobest(name: str, en: str, ko: str, chance: float, size: str, what: str) -> BenchmarkSpec:
    return BenchmarkSpec(
        name=f"kobest_{name}",
        task=f"kobest_{name}",
        bundled_task=f"evalboard_bundled_kobest_{name}",
        display_en=f"KoBEST {en}",
        display_ko=f"KoBEST {ko}",
        num_fewshot=5,
        primary_metric="acc",
        language="ko",
        random_baseline=chance,
        version="1.0",
        hub_datasets=(("skt/kobest_v1", name),),
        description=what,
        size=size,
        licence=KOBEST_LICENCE,
        source=KOBEST_SOURCE,
    )


KOBENCH = (
    _kobest("boolq", "BoolQ", "BoolQ", 0.5, "1,404 test items", "Yes/no questions about a Korean paragraph."),
    _kobest("copa", "COPA", "COPA", 0.5, "1,000 test items", "Pick the more plausible cause or effect."),
    _kobest("wic", "WiC", "WiC", 0.5, "1,260 test items", "Same sense of a word in two sentences?"),
    _kobest(
        "hellaswag",
        "HellaSwag",
        "HellaSwag",
        0.25,
        "500 test items",
        "Pick the natural next scene.",
    ),
    _kobest(
        "sentineg", "SentiNeg", "감성 부정", 0.5, "397 test items", "Sentiment, including negated sentences."
    ),
    BenchmarkSpec(
        name="kmmlu",
        task="kmmlu",
        bundled_task="evalboard_bundled_kmmlu",
        display_en="KMMLU",
        display_ko="KMMLU",
        num_fewshot=5,
        primary_metric="acc",
        language="ko",
        random_baseline=0.25,
        version="1.0",
        aggregation=GROUP,
        hub_datasets=(("HAERAE-HUB/KMMLU", None),),
        description="Korean expert-level four-choice questions in 45 subjects, from Korean exams.",
        size="35,030 test questions in 45 subjects",
        licence="CC BY-ND 4.0",
        source="Son et al. 2024, arXiv:2402.11548",
    ),
    BenchmarkSpec(
        name="haerae",
        task="haerae",
        bundled_task="evalboard_bundled_haerae",
        display_en="HAE-RAE Bench",
        display_ko="해례 벤치",
        num_fewshot=0,
        primary_metric="acc_norm",
        language="ko",
        random_baseline=0.2,
        version="1.0",
        aggregation=GROUP,
        hub_datasets=(("HAERAE-HUB/HAE_RAE_BENCH", None),),
        description="Korean vocabulary, history and general knowledge a translated benchmark misses.",
        size="1,538 items in 5 subsets",
        licence="CC BY-NC-ND 4.0",
        source="Son et al. 2023, arXiv:2309.02706",
    ),
    BenchmarkSpec(
        name="click",
        task="click",
        bundled_task="evalboard_bundled_click",
        display_en="CLIcK",
        display_ko="CLIcK",
        num_fewshot=0,
        primary_metric="acc",
        language="ko",
        random_baseline=0.25,
        version="1.0",
        aggregation=GROUP,
        hub_datasets=(("EunsuKim/CLIcK", None),),
        description="Korean culture and language knowledge (grammar, history, law, pop culture).",
        size="1,995 questions",
        licence="see the dataset card",
        source="Kim et al. 2024, arXiv:2403.06412",
    ),
    BenchmarkSpec(
        name="hrm8k_gsm8k",
        task="hrm8k_gsm8k",
        bundled_task="evalboard_bundled_hrm8k_gsm8k",
        display_en="Ko-GSM8K (HRM8K)",
        display_ko="한국어 GSM8K (HRM8K)",
        num_fewshot=0,
        primary_metric="exact_match",
        language="ko",
        random_baseline=0.0,
        version="1.0",
        request_type="generate",
        hub_datasets=(("HAERAE-HUB/HRM8K", "GSM8K"),),
        description=(
            "Grade-school maths word problems in Korean (HRM8K's GSM8K part); the model writes its "
            "working and a final $\\boxed{N}$, compared with the answer as a number."
        ),
        size="1,319 test problems",
        licence="MIT",
        source="Ko et al. 2025, HRM8K (arXiv:2501.02448), dataset HAERAE-HUB/HRM8K (GSM8K)",
    ),
    BenchmarkSpec(
        name="global_mmlu_ko",
        task="global_mmlu_ko",
        bundled_task="evalboard_bundled_global_mmlu_ko",
        display_en="Global-MMLU (ko)",
        display_ko="Global-MMLU (한국어)",
        num_fewshot=5,
        primary_metric="acc",
        language="ko",
        random_baseline=0.25,
        version="1.0",
        aggregation=GROUP,
        hub_datasets=(("CohereForAI/Global-MMLU-Lite", "ko"),),
        description=(
            "MMLU's four-choice questions in professional Korean translation, balanced between "
            "culturally sensitive and culturally agnostic items (the Lite set), in six subject groups."
        ),
        size="400 test questions (Global-MMLU-Lite, ko)",
        licence="Apache-2.0",
        source="Singh et al. 2024, Global MMLU (arXiv:2412.03304), dataset CohereForAI/Global-MMLU-Lite (ko)",
    ),
    BenchmarkSpec(
        name="kormedmcqa",
        task="kormedmcqa",
        bundled_task="evalboard_bundled_kormedmcqa",
        display_en="KorMedMCQA",
        display_ko="KorMedMCQA (보건의료 면허시험)",
        num_fewshot=5,
        primary_metric="exact_match,extract_answer",
        language="ko",
        random_baseline=0.2,
        version="1.0",
        aggregation=GROUP,
        request_type="generate",
        hub_datasets=tuple(("sean0042/KorMedMCQA", name) for name in ("doctor", "nurse", "pharm", "dentist")),
        description=(
            "Five-choice questions from the Korean licensing exams for doctors, nurses, pharmacists "
            "and dentists; the model writes the letter of its answer."
        ),
        size="3,009 test questions over the four exams",
        licence="CC BY-NC 2.0",
        source="Kweon et al. 2024, KorMedMCQA (arXiv:2403.01469), dataset sean0042/KorMedMCQA",
    ),
)

KOBENCH_SUITE = Suite(
    name="kobench",
    title_en="KoBench (Korean)",
    title_ko="KoBench (한국어)",
    description=(
        "Korean understanding and knowledge on public datasets: KoBEST (5 tasks, 5-shot), KMMLU "
        "(5-shot), HAE-RAE and CLIcK (0-shot), Korean GSM8K from HRM8K (0-shot), Global-MMLU Korean "
        "(5-shot) and KorMedMCQA (5-shot)."
    ),
    benchmarks=KOBENCH,
)
