"""gen-ko: Korean summarization and Korean<->English translation; gen-en: English summarization.
Generated through the same backend layer as every benchmark (chat template applied for chat models)
and scored with evalboard's evaluators: ROUGE on Kiwi morphemes (Korean) or rouge-score's own
(English), BLEU (ko-mecab / 13a), chrF++ and BERTScore; the summaries also by the LLM judge on
G-Eval's four criteria (harness/geval_scoring.py), recorded beside ROUGE-L, which stays ranked.

The items are bundled samples written for evalboard in the real datasets' schemas. The real sets
(documented here and on the About page, not wired to the hub yet, so these scores rank on the
sample-data board): XL-Sum Korean (csebuetnlp/xlsum, config "korean"; BBC Korean articles with
their summary lines; CC BY-NC-SA 4.0, so research and non-commercial leaderboards only) and
FLORES-200 / FLORES+ (openlanguagedata/flores_plus, kor_Hang and eng_Latn; 1,012 devtest
sentences; CC BY-SA 4.0), and XSum (EdinburghNLP/xsum; BBC articles, each with its one-sentence
introduction as the summary; 11,334 test articles; released for research, no licence on the card).
"""

from benchmarks.spec import BenchmarkSpec, MetricSpec, Suite

BERTSCORE_NOTE = (
    "BERTScore uses bert-base-multilingual-cased (layer 9) for Korean and roberta-large (layer 17) for "
    "English when they are available on the worker, else the bundled MiniLM-L6; the model used is "
    "recorded with each score."
)
GEVAL_NOTE = (
    "The summaries are also graded by the LLM judge on G-Eval's coherence, consistency, fluency and "
    "relevance (extra metrics on 0..1; the judge model and prompt versions are recorded with them)."
)


def _translation(
    source: str, target: str, *, language: str, display_ko: str, description: str
) -> BenchmarkSpec:
    """One direction over the shared bundled sentence pairs, scored in the target language:
    chrF++ ranked, then BLEU (13a or ko-mecab, by language) and BERTScore."""
    return BenchmarkSpec(
        name=f"{source}_{target}_translation",
        task=f"evalboard_gen_ko_translation_{source}_{target}",
        display_en=f"Translation {source}→{target} (chrF++)",
        display_ko=display_ko,
        num_fewshot=0,
        primary_metric="chrf++",
        language=language,
        random_baseline=0.0,
        version="1.0",
        request_type="generate",
        metrics=(
            MetricSpec("chrf", target, {"word_order": 2}),
            MetricSpec("bleu", target),
            MetricSpec("bertscore", target),
        ),
        description=description,
        size="24 bundled sentence pairs (FLORES-200: 1,012 devtest sentences)",
        licence="bundled: written for evalboard; FLORES-200: CC BY-SA 4.0",
        source="NLLB Team 2022, FLORES-200; dataset openlanguagedata/flores_plus",
    )


GEN_KO = Suite(
    name="gen-ko",
    title_en="Generation (Korean)",
    title_ko="생성 (한국어)",
    description=(
        "Korean news summarization and Korean↔English sentence translation, generated greedily and scored "
        "with ROUGE on Korean morphemes, chrF++, BLEU and BERTScore. Bundled items written for evalboard; "
        + BERTSCORE_NOTE
        + " "
        + GEVAL_NOTE
    ),
    benchmarks=(
        BenchmarkSpec(
            name="ko_summarization",
            task="evalboard_gen_ko_summarization",
            display_en="Summarization (ko, ROUGE-L)",
            display_ko="요약 (ROUGE-L)",
            num_fewshot=0,
            primary_metric="rougeL",
            language="ko",
            random_baseline=0.0,
            version="1.1",
            request_type="generate",
            metrics=(
                MetricSpec("rouge", "ko"),
                MetricSpec("bertscore", "ko"),
                MetricSpec("geval", "ko", {"source": "text"}),
            ),
            description=(
                "Summarize a short Korean news article in one or two sentences; ROUGE-1/2/L/Lsum F1 on Kiwi "
                "morphemes (rouge-score's own tokenizer drops Hangul) and BERTScore against the reference, "
                "and G-Eval (the judge reads the article and the summary) beside them."
            ),
            size="22 bundled articles (XL-Sum Korean: 550 test articles)",
            licence="bundled: written for evalboard; XL-Sum: CC BY-NC-SA 4.0",
            source="Hasan et al. 2021, XL-Sum (Findings of ACL), dataset csebuetnlp/xlsum (korean)",
        ),
        _translation(
            "ko",
            "en",
            language="en+ko",
            display_ko="번역 한→영 (chrF++)",
            description=(
                "Translate a Korean sentence into English; chrF++ (ranked), corpus BLEU with 13a "
                "tokenization and BERTScore."
            ),
        ),
        _translation(
            "en",
            "ko",
            language="ko",
            display_ko="번역 영→한 (chrF++)",
            description=(
                "Translate an English sentence into Korean; chrF++ (ranked: character n-grams need no Korean "
                "tokenizer), corpus BLEU on mecab-ko morphemes (ko-mecab) and BERTScore."
            ),
        ),
    ),
)

GEN_EN = Suite(
    name="gen-en",
    title_en="Generation (English)",
    title_ko="생성 (영어)",
    description=(
        "English news summarization in one sentence, generated greedily and scored with ROUGE and "
        "BERTScore against the reference. Bundled items written for evalboard; "
        + BERTSCORE_NOTE
        + " "
        + GEVAL_NOTE
    ),
    benchmarks=(
        BenchmarkSpec(
            name="en_summarization",
            task="evalboard_gen_en_summarization",
            display_en="Summarization (en, ROUGE-L)",
            display_ko="영어 요약 (ROUGE-L)",
            num_fewshot=0,
            primary_metric="rougeL",
            language="en",
            random_baseline=0.0,
            version="1.0",
            request_type="generate",
            metrics=(
                MetricSpec("rouge", "en"),
                MetricSpec("bertscore", "en"),
                MetricSpec("geval", "en", {"source": "document"}),
            ),
            description=(
                "Summarize a short English news article in one sentence, as XSum asks; ROUGE-1/2/L/Lsum F1 "
                "(rouge-score with Porter stemming) and BERTScore against the reference, and G-Eval (the "
                "judge reads the article and the summary) beside them."
            ),
            size="22 bundled articles (XSum: 11,334 test articles)",
            licence="bundled: written for evalboard; XSum: BBC articles, research use (no licence stated)",
            source="Narayan et al. 2018, Don't Give Me the Details, Just the Summary! (EMNLP), dataset "
            "EdinburghNLP/xsum",
        ),
    ),
)
