"""Identities for models that have no hub commit: bundled GGUF files and local folders.

Light on purpose (stdlib only): the API computes these at submission, the worker again at load.
"""

from __future__ import annotations

import hashlib
import struct
from functools import lru_cache
from pathlib import Path

FINGERPRINTED_SUFFIXES = (".json", ".jinja", ".model", ".txt")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=32)
def cached_file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    """file_sha256 memoized on (path, size, mtime): bundled files never change once installed."""
    return file_sha256(path)


def local_fingerprint(folder: Path) -> str:
    """A cheap content fingerprint of a local model folder: its small files in full, plus every
    safetensors header (names, shapes, dtypes, offsets) and size. Hashing whole weight files would
    cost about a minute per 15 GB model on every submission and every job."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.name.endswith(FINGERPRINTED_SUFFIXES):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        elif path.suffix == ".safetensors":
            with path.open("rb") as handle:
                (size,) = struct.unpack("<Q", handle.read(8))
                digest.update(path.name.encode() + b"\0" + handle.read(min(size, 1 << 26)))
            digest.update(str(path.stat().st_size).encode())
    return "local-sha256:" + digest.hexdigest()
