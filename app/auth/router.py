"""/api/v1/me, /api/v1/users, /api/v1/tokens, /api/v1/audit: who am I, people, tokens, the audit log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from app.auth import accounts, audit
from app.auth.policy import admin, ensure_may_act, member, owner
from app.auth.principal import Principal
from app.auth.schemas import AuditOut, IssuedTokenOut, TokenIn, TokenOut, UserIn, UserOut
from app.auth.tables import ApiToken
from app.deps import SESSION

router = APIRouter(prefix="/api/v1", tags=["identity"])
AUTH: dict[int | str, dict[str, Any]] = {401: {}, 403: {}}


def _token_out(token: ApiToken, user: str) -> TokenOut:
    return TokenOut(
        prefix=token.prefix,
        name=token.name,
        user=user,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
    )


@router.get("/me", response_model=UserOut, responses=AUTH)
def who_am_i(caller: Principal = Depends(member), session: Session = SESSION) -> UserOut:
    return UserOut.model_validate(accounts.get_user(session, caller.name))


@router.get("/users", response_model=list[UserOut], responses=AUTH, dependencies=[Depends(admin)])
def list_users(session: Session = SESSION) -> list[UserOut]:
    return [UserOut.model_validate(user) for user in accounts.list_users(session)]


@router.post("/users", status_code=201, response_model=UserOut, responses={**AUTH, 409: {}, 422: {}})
def add_user(
    body: UserIn,
    caller: Principal = Depends(admin),
    session: Session = SESSION,
) -> UserOut:
    user = accounts.add_user(
        session, body.name, role=body.role, display_name=body.display_name, password=body.password
    )
    audit.record(session, caller, "user.add", "user", user.name, after={"role": user.role})
    return UserOut.model_validate(user)


@router.post("/users/{name}/disable", response_model=UserOut, responses={**AUTH, 404: {}})
def disable_user(name: str, caller: Principal = Depends(admin), session: Session = SESSION) -> UserOut:
    user = accounts.get_user(session, name[:64])
    before = {"disabled": user.disabled}
    accounts.disable_user(session, user)
    audit.record(session, caller, "user.disable", "user", user.name, before=before, after={"disabled": True})
    return UserOut.model_validate(user)


@router.get("/tokens", response_model=list[TokenOut], responses=AUTH)
def list_tokens(
    all_users: bool = Query(False, description="Admins: every user's tokens"),
    caller: Principal = Depends(member),
    session: Session = SESSION,
) -> list[TokenOut]:
    """Your tokens (prefixes only: a token is shown once, when created)."""
    whose = None if (all_users and caller.is_admin) else accounts.get_user(session, caller.name)
    return [_token_out(token, user) for token, user in accounts.list_tokens(session, whose)]


@router.post("/tokens", status_code=201, response_model=IssuedTokenOut, responses={**AUTH, 404: {}, 422: {}})
def create_token(
    body: TokenIn,
    caller: Principal = Depends(member),
    session: Session = SESSION,
) -> IssuedTokenOut:
    """A new token for yourself (admins: for anyone). The response is the only time it is shown."""
    name = body.user or caller.name
    if name != caller.name and not caller.is_admin:
        ensure_may_act(caller, None, f"user {name!r}")
    issued = accounts.create_token(
        session, accounts.get_user(session, name), label=body.label, expires_days=body.expires_days
    )
    audit.record(
        session, caller, "token.create", "token", issued.prefix, after={"user": name, "name": issued.name}
    )
    return IssuedTokenOut(
        token=issued.token,
        prefix=issued.prefix,
        name=issued.name,
        user=issued.user,
        expires_at=issued.expires_at,
    )


@router.delete("/tokens/{prefix}", response_model=TokenOut, responses={**AUTH, 404: {}})
def revoke_token(prefix: str, caller: Principal = Depends(owner), session: Session = SESSION) -> TokenOut:
    """Revoke one of your tokens (admins: anyone's) by its prefix."""
    token = accounts.find_token(session, prefix[:16])
    ensure_may_act(caller, token.user_id, f"token {prefix[:16]}")
    accounts.revoke_token(session, token)
    audit.record(session, caller, "token.revoke", "token", token.prefix)
    owner_name = audit.user_names(session, {token.user_id}).get(token.user_id, "")
    return _token_out(token, owner_name)


@router.get("/audit", response_model=list[AuditOut], responses=AUTH, dependencies=[Depends(admin)])
def read_audit_log(
    limit: int = Query(100, ge=1, le=500),
    before_id: int | None = Query(None, ge=1, le=2**31 - 1, description="Page back from this entry"),
    session: Session = SESSION,
) -> list[AuditOut]:
    """Every admin action and every change to someone's job: who, what, target, when, before/after."""
    return [AuditOut.model_validate(row) for row in audit.entries(session, limit=limit, before_id=before_id)]
