"""Who may call each route: one dependency per access level, and every route declares exactly one.

    anonymous  read the board, model pages, results, public samples, suites, queue
    member     submit, fine-tune, score; cancel or requeue their own requests and fine-tunes
    owner      a member acting on a row they created (the service checks the row's submitted_by);
               admins act on everyone's
    admin      everything: other people's jobs, users and tokens, flags, hiding, priorities

Each dependency also counts the request against the caller's rate limit and, for a signed-in browser
sending a state-changing request, checks its CSRF token. tests/integration/test_policy.py walks every
route of the app and fails for any route without one of these.
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool

from app.auth.authenticate import authenticate, bearer_token, cached_principal
from app.auth.principal import Principal
from app.auth.web_sessions import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE
from app.errors import Forbidden, Unauthorized

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Access(enum.StrEnum):
    ANONYMOUS = "anonymous"
    MEMBER = "member"
    OWNER = "owner"
    ADMIN = "admin"


async def _principal(request: Request) -> Principal | None:
    """Without a thread hop when nothing needs the database: no credentials, or a cached token."""
    token = bearer_token(request)
    if token is not None:
        known = cached_principal(token)
        if known is not None:
            return known
    elif not request.cookies.get(SESSION_COOKIE):
        return None
    return await run_in_threadpool(authenticate, request, request.app.state.settings)


async def _check_csrf(request: Request, principal: Principal) -> None:
    """Cookies ride along on cross-site requests; a token in the page (form field or header) does not."""
    if principal.via != "session" or request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not principal.csrf_token or not hmac.compare_digest(sent, principal.csrf_token):
        raise Forbidden("the form's CSRF token is missing or stale: reload the page and send it again")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _identify(request: Request) -> Principal | None:
    try:
        principal = await _principal(request)
    except Unauthorized:
        request.app.state.rate_limits.count_request(f"addr:{client_address(request)}")
        raise
    request.state.principal = principal
    key = principal.rate_key if principal else f"addr:{client_address(request)}"
    request.app.state.rate_limits.count_request(key)
    if principal is not None:
        await _check_csrf(request, principal)
    return principal


def _require(access: Access) -> Callable[[Request], Awaitable[Any]]:
    async def dependency(request: Request) -> Any:
        principal = await _identify(request)
        if access is Access.ANONYMOUS:
            return principal
        if principal is None:
            raise Unauthorized(
                "sign in first: send 'Authorization: Bearer <token>' (create one with `evalboard tokens "
                "create NAME`) or sign in on /signin"
            )
        if access is Access.ADMIN and not principal.is_admin:
            raise Forbidden("only an administrator may do this")
        return principal

    dependency.__name__ = f"{access.value}_access"
    dependency.__access__ = access  # type: ignore[attr-defined]
    return dependency


anonymous = _require(Access.ANONYMOUS)
member = _require(Access.MEMBER)
owner = _require(Access.OWNER)
admin = _require(Access.ADMIN)


def ensure_may_act(principal: Principal, owner_id: int | None, what: str) -> None:
    """Owner routes: 403 unless the caller created the row or is an admin."""
    if not principal.may_act_on(owner_id):
        raise Forbidden(
            f"{what} belongs to someone else: only its submitter or an administrator may change it"
        )


@dataclass(frozen=True)
class RoutePolicy:
    path: str
    methods: frozenset[str]
    access: tuple[Access, ...]  # exactly one for a route with a policy; empty: FastAPI's docs routes


def route_policies(app: FastAPI) -> list[RoutePolicy]:
    """Every route the app serves, included routers flattened, with the levels it declares."""
    policies = []
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        access = tuple(_declared_access(dependant)) if dependant is not None else ()
        policies.append(RoutePolicy(route.path or "", frozenset(route.methods or ()), access))
    return policies


def _declared_access(dependant: Any) -> list[Access]:
    found: list[Access] = []
    stack = list(dependant.dependencies)
    while stack:
        dependant = stack.pop()
        access = getattr(dependant.call, "__access__", None)
        if access is not None:
            found.append(access)
        stack.extend(dependant.dependencies)
    return found
