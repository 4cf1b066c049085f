"""The worker's evaluation runner: lm-eval calls through a backend (hf, vllm, openai), the response
cache, generation scoring, judged runs, normalization and the result rows.

Worker only: the API process never imports this package (an import-linter contract in
pyproject.toml checks it). Heavy libraries are imported inside functions, so importing a module
here stays cheap, but nothing outside app/worker, training/ and the operator commands that run
evaluations in-process should need to.
"""
