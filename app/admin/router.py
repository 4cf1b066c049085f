"""Admin actions on models (flag, hide). Filled in by the admin slice."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["admin"])
