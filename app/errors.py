"""Expected failures: each carries an HTTP status and a message that says what to change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class AppError(Exception):
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(AppError):
    status_code = 422


class Forbidden(AppError):
    status_code = 403


class NotFound(AppError):
    status_code = 404


class Conflict(AppError):
    status_code = 409


class PayloadTooLarge(AppError):
    status_code = 413


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """Pydantic's error list as one sentence per field: 'precision: Input should be ...'."""
    parts = []
    for error in errors:
        location = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{'.'.join(location) or 'request'}: {message}")
    return "; ".join(parts)
