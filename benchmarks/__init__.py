"""Benchmark catalog, the lm-eval harness wrapper and the inference backends.

Nothing here imports torch, transformers or lm_eval at module import time: the API process
imports the catalog, and only worker child processes import the heavy libraries.
"""
