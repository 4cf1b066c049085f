"""What the operator's commands (`evalboard eval`, `judge`, `datasets`) run in their own process
instead of through the queue: the worker side's entry points, gathered here because app/worker is
the only part of the service that may import harness/ and training/ (an import-linter contract in
pyproject.toml). The commands import this module inside their functions, so `evalboard serve`
never loads it.
"""

from harness.judge_file import grade as grade_file
from harness.judged_data import pull as pull_judged
from harness.runner import run_suite
from harness.task_index import hub_datasets, item_counts

__all__ = ["grade_file", "hub_datasets", "item_counts", "pull_judged", "run_suite"]
