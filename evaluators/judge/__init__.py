"""LLM-as-judge: an OpenAI-compatible client with concurrency, retries, usage and a response
cache (client.py), and the graders built on it."""
