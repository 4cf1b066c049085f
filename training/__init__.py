"""LoRA fine-tuning on the hf backend (worker side; torch and peft are imported inside functions).

contamination.py (n-gram overlap with benchmark items), examples.py (chat-templated token ids and
loss masks), train.py (the optimizer loop), pipeline.py (train, save, then evaluate the model still
in memory through harness/). The job's parameters (benchmarks/training_params.py) stay light, since
the API validates them.
"""
