"""The light half of the evaluation side, importable by the API: benchmark specs and suites, the
catalog (built-in suites plus the private registry), the model-reference grammar, bundled sample
data and the lm-eval task YAML under tasks/.

Nothing here imports torch, transformers, lm_eval, vllm, peft, bert_score or numpy at import time
(an import-linter contract in pyproject.toml checks it). What runs models lives in harness/ and
training/, which only the worker imports.
"""
