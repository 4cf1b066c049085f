"""Open Ko-LLM Leaderboard season 2 (Kim et al. 2024, "Open Ko-LLM Leaderboard2", arXiv:2410.12445):
nine Korean benchmarks whose sets are held privately by their owners (Flitto for the translated
ones, SELECTSTAR and KAIST AI for the KorNAT-based ones).

Each benchmark is a private-set template (benchmarks/private_templates.py): the task config, metric,
few-shot count and chance level as the leaderboard used them, under
benchmarks/tasks/ko_leaderboard/, with a bundled sample written for evalboard as the offline
stand-in. An operator who holds a set activates it with
`evalboard private add NAME --template ko-llm-v2/NAME --data FILE`. Which published description
each follows, and what could not be confirmed, is in README "Private-set templates".
"""

from benchmarks.spec import NORMALIZED_MEAN, SINGLE, BenchmarkSpec, Suite, template_benchmark

SUITE = "ko-llm-v2"
LICENCE = "held by the owners; bundled: written for evalboard"
LEADERBOARD = "Open Ko-LLM Leaderboard2 (Kim et al. 2024, arXiv:2410.12445)"
KORNAT = "KorNAT (Lee et al. 2024, arXiv:2402.13605)"


def _template(
    name: str,
    en: str,
    ko: str,
    *,
    num_fewshot: int,
    primary_metric: str,
    random_baseline: float,
    description: str,
    size: str,
    source: str,
    request_type: str = "loglikelihood",
    aggregation: str = SINGLE,
    normalize_metrics: tuple[str, ...] = (),
) -> BenchmarkSpec:
    """A season 2 template: task `evalboard_<name>` on the bundled stand-in, Korean, version 1.0."""
    return template_benchmark(
        SUITE,
        name,
        display_en=en,
        display_ko=ko,
        num_fewshot=num_fewshot,
        primary_metric=primary_metric,
        random_baseline=random_baseline,
        aggregation=aggregation,
        request_type=request_type,
        normalize_metrics=normalize_metrics,
        description=description,
        size=size,
        licence=LICENCE,
        source=source,
    )


KO_LLM_V2_BENCHMARKS = (
    _template(
        "ko_gpqa",
        "Ko-GPQA",
        "Ko-GPQA",
        num_fewshot=0,
        primary_metric="acc_norm",
        random_baseline=0.25,
        description="Graduate-level physics, chemistry and biology questions in Korean, four choices.",
        size="198 questions (GPQA diamond, private Korean translation)",
        source=f"{LEADERBOARD}; GPQA diamond (Rein et al. 2023, arXiv:2311.12022) as lm-eval's "
        "Open LLM Leaderboard v2 config runs it",
    ),
    _template(
        "ko_winogrande",
        "Ko-WinoGrande",
        "Ko-WinoGrande",
        num_fewshot=5,
        primary_metric="acc",
        random_baseline=0.5,
        description="Korean Winograd-style sentences: which of two people or things the blank means.",
        size="1,267 items (WinoGrande validation, private Korean translation)",
        source=f"{LEADERBOARD}; WinoGrande (Sakaguchi et al. 2019, arXiv:1907.10641) as lm-eval runs it",
    ),
    _template(
        "ko_gsm8k",
        "Ko-GSM8K",
        "Ko-GSM8K",
        num_fewshot=5,
        primary_metric="exact_match,strict-match",
        random_baseline=0.0,
        request_type="generate",
        description="Korean grade-school maths word problems; the answer must follow '#### '.",
        size="1,319 problems (GSM8K test, private Korean translation)",
        source=f"{LEADERBOARD}; GSM8K (Cobbe et al. 2021, arXiv:2110.14168) as lm-eval runs it",
    ),
    _template(
        "ko_eqbench",
        "Ko-EQ-Bench",
        "Ko-EQ-Bench",
        num_fewshot=0,
        primary_metric="eqbench",
        random_baseline=0.0,
        request_type="generate",
        description="Rate how strongly a character in a Korean dialogue feels four emotions (0-10).",
        size="171 dialogues (EQ-Bench v2, private Korean translation)",
        source=f"{LEADERBOARD}; EQ-Bench v2 (Paech 2023, arXiv:2312.06281) as lm-eval's eq_bench runs it",
    ),
    _template(
        "ko_ifeval",
        "Ko-IFEval",
        "Ko-IFEval",
        num_fewshot=0,
        primary_metric="prompt_level_strict_acc",
        random_baseline=0.0,
        request_type="generate",
        # As Open LLM v2 and the Korean board report it: the mean of prompt- and instruction-level
        # strict accuracy (normalizing against a chance level of 0 leaves that mean unchanged).
        aggregation=NORMALIZED_MEAN,
        normalize_metrics=("prompt_level_strict_acc", "inst_level_strict_acc"),
        description="Korean prompts with verifiable instructions (formats, lengths, keywords), rule-checked.",
        size="494 prompts (private Korean adaptation of IFEval)",
        source=f"{LEADERBOARD}; IFEval (Zhou et al. 2023, arXiv:2311.07911) as lm-eval's Open LLM "
        "Leaderboard v2 config runs it",
    ),
    _template(
        "kornat_knowledge",
        "KorNAT Knowledge",
        "KorNAT 상식",
        num_fewshot=0,
        primary_metric="acc_norm",
        random_baseline=0.25,
        description="Common knowledge of Korea's compulsory curriculum: Korean, history, society, science.",
        size="about 6,000 questions (KorNAT common knowledge, private)",
        source=f"{LEADERBOARD}; {KORNAT}, common knowledge",
    ),
    _template(
        "kornat_social_values",
        "KorNAT Social Values",
        "KorNAT 사회적 가치",
        num_fewshot=0,
        primary_metric="A-SVA",
        # Picking one of the three aggregated positions at random matches on average a third of
        # the respondents, whatever the distribution.
        random_baseline=1 / 3,
        description="Korean social issues: how many surveyed Koreans share the model's answer (A-SVA).",
        size="about 4,000 statements (KorNAT social values, private)",
        source=f"{LEADERBOARD}; {KORNAT}, social values, A-SVA",
    ),
    _template(
        "ko_harmlessness",
        "Ko-Harmlessness",
        "Ko-Harmlessness (무해성)",
        num_fewshot=0,
        primary_metric="acc_norm",
        random_baseline=0.5,
        description="Risky Korean requests: does the model prefer the harmless reply to the harmful one?",
        size="size not published (private)",
        source=f"{LEADERBOARD}; item format ours (preference pairs)",
    ),
    _template(
        "ko_helpfulness",
        "Ko-Helpfulness",
        "Ko-Helpfulness (유용성)",
        num_fewshot=0,
        primary_metric="acc_norm",
        random_baseline=0.5,
        description="Everyday Korean requests: does the model prefer the helpful reply to an unhelpful one?",
        size="size not published (private)",
        source=f"{LEADERBOARD}; item format ours (preference pairs)",
    ),
)

KO_LLM_V2 = Suite(
    name=SUITE,
    title_en="Open Ko-LLM Leaderboard season 2",
    title_ko="Open Ko-LLM 리더보드 시즌 2",
    description=(
        "The nine benchmarks of the Open Ko-LLM Leaderboard's season 2: Ko-GPQA, Ko-WinoGrande (5-shot), "
        "Ko-GSM8K (5-shot), Ko-EQ-Bench, Ko-IFEval, KorNAT knowledge and social values, "
        "Ko-Harmlessness and Ko-Helpfulness, zero-shot where not said, with the leaderboard's metrics. "
        "Their sets are held privately by their owners, so each runs on a bundled sample "
        "written for evalboard until an operator who holds the set registers it: "
        "`evalboard private add NAME --template ko-llm-v2/NAME --data FILE`."
    ),
    benchmarks=KO_LLM_V2_BENCHMARKS,
)
