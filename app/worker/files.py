"""Files a job attempt leaves in its artifacts folder; the child writes them, the parent reads them.

The child never touches the database: it computes and writes files, and the parent (which holds
the job's lease) commits results. A child that crashes therefore cannot leave half a result.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

LOG = "job.log"
PROGRESS = "progress.json"
OUTCOME = "outcome.json"
ERROR = "error.json"


def write_json_atomic(path: Path, data: Any) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, ensure_ascii=False, default=str))
    os.replace(temporary, path)


def read_json(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def log_tail(path: Path, lines: int) -> str:
    """The last lines of a log, with tqdm's carriage-return redraws collapsed to their final state."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    cleaned = [line.rsplit("\r", 1)[-1].rstrip() for line in text.split("\n")]
    return "\n".join([line for line in cleaned if line][-lines:])
