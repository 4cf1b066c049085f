"""Shapes of the identity API: users, tokens (shown once), the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.auth.tables import Role


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    display_name: str
    role: str
    disabled: bool
    created_at: datetime


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(..., min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]{1,63}$")
    role: Role = Role.MEMBER
    display_name: str | None = Field(None, max_length=128)
    password: str | None = Field(None, min_length=10, max_length=256)


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    label: str | None = Field(None, max_length=64)
    expires_days: int | None = Field(None, ge=1, le=3650)
    user: str | None = Field(None, max_length=64, description="Admins: whose token; default: your own")


class TokenOut(BaseModel):
    prefix: str
    name: str
    user: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class IssuedTokenOut(BaseModel):
    token: str = Field(..., description="Shown once: store it now; the server keeps only its hash")
    prefix: str
    name: str
    user: str
    expires_at: datetime | None


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    actor_name: str
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str | None
    created_at: datetime
