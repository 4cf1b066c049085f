"""The /admin page (filled in by the web slice)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
