"""Signing in and out of the web pages: the password form, the one-time link, sign-out, and the page a
refused (403) page request gets.

The sign-in form is protected before anyone is signed in by a double-submit token: a random value in
an HttpOnly cookie that the form repeats in a hidden field. Another site can make a browser post the
form, but cannot read the cookie to fill the field, so it cannot sign a visitor into its own account.
Every refusal of a name or password reads the same, whatever the reason, so the form tells nobody
which names exist or which accounts are disabled."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.auth import accounts
from app.auth.credentials import verify_password
from app.auth.policy import anonymous, client_address, member
from app.auth.principal import Principal
from app.auth.signin_links import redeem_signin_link
from app.auth.tables import User
from app.auth.web_sessions import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE, end_session, start_session
from app.config import Settings
from app.deps import SESSION, get_settings_dep
from app.errors import AppError, NotFound, TooManyRequests
from app.web.cookies import delete_presignin_cookie, delete_session_cookie, set_session_cookie
from app.web.router import render_page

router = APIRouter(include_in_schema=False)

# Bounds on what the forms and the link accept; longer input is refused before any work is done.
MAX_NAME = 64
MAX_PASSWORD = 256
MAX_NEXT = 512
MAX_LINK_TOKEN = 128


def local_path(target: str | None) -> str:
    """`next` when it stays on this site, else "/". To a browser "//host" and "/\\host" are another
    site, and it drops tabs and newlines from URLs, so "/", a tab, "/host" would be one too."""
    if not target or len(target) > MAX_NEXT or not target.startswith("/"):
        return "/"
    if target.startswith("//") or "\\" in target or any(ord(c) < 0x21 or c == "\x7f" for c in target):
        return "/"
    return target


def _form_text(form: object, key: str, limit: int) -> str | None:
    """The field as text; None when missing, not text, or longer than its bound."""
    value = form.get(key) if hasattr(form, "get") else None
    return value if isinstance(value, str) and len(value) <= limit else None


def signin_page(
    request: Request,
    settings: Settings,
    status_code: int = 200,
    *,
    problem: str | None = None,
    next_path: str = "/",
    name: str = "",
    show_form: bool = True,
    retry_after: int | None = None,
) -> HTMLResponse:
    response = render_page(
        request,
        settings,
        "signin.html",
        status_code,
        problem=problem,
        next_path=next_path,
        user_name=name,
        show_form=show_form,
        retry_after=retry_after,
    )
    response.headers["Cache-Control"] = "no-store"  # the page carries a CSRF token
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/signin", dependencies=[Depends(anonymous)], response_class=HTMLResponse)
def signin_form(request: Request, settings: Settings = Depends(get_settings_dep)) -> HTMLResponse:
    """render_page sets the double-submit cookie when the browser has none yet."""
    return signin_page(request, settings, next_path=local_path(request.query_params.get("next")))


def _password_matches(session: Session, name: str, password: str) -> User | None:
    """The user when the password is theirs and they may sign in. An unknown name still costs one
    Argon2 verification, so response times do not tell which names exist."""
    try:
        user: User | None = accounts.get_user(session, name)
    except NotFound:
        user = None
    stored = user.password_hash if user is not None else None
    if not verify_password(password, stored) or user is None or user.disabled:
        return None
    return user


@router.post("/signin", response_class=HTMLResponse, response_model=None)
async def signin_post(
    request: Request,
    caller: Principal | None = Depends(anonymous),
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> Response:
    form = await request.form()
    next_path = local_path(_form_text(form, "next", MAX_NEXT))
    name = (_form_text(form, "name", MAX_NAME) or "").strip().lower()
    password = _form_text(form, "password", MAX_PASSWORD)
    # A signed-in browser's form carries its session's token, which the policy has checked already.
    if caller is None or caller.via != "session":
        sent, cookie = _form_text(form, CSRF_FIELD, 128), request.cookies.get(CSRF_COOKIE)
        if not sent or not cookie or not hmac.compare_digest(sent, cookie):
            return signin_page(
                request, settings, 403, problem="signin.stale_form", next_path=next_path, name=name
            )
    address = client_address(request)
    limits = request.app.state.rate_limits
    try:
        limits.check_signin(name, address)
    except TooManyRequests as exc:
        return signin_page(
            request,
            settings,
            429,
            problem="signin.too_many",
            next_path=next_path,
            retry_after=exc.retry_after,
        )
    user = _password_matches(session, name, password) if name and password else None
    if user is None:
        limits.count_signin_failure(name, address)
        return signin_page(request, settings, 401, problem="signin.wrong", next_path=next_path, name=name)
    return _signed_in(request, session, settings, user, next_path)


def _signed_in(request: Request, session: Session, settings: Settings, user: User, target: str) -> Response:
    """A fresh session (any earlier one of this browser ends: a session id never outlives a sign-in)."""
    end_session(session, settings, request.cookies.get(SESSION_COOKIE))
    cookie, _csrf = start_session(session, settings, user)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, settings, request, cookie)
    delete_presignin_cookie(response, settings, request)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/signout", response_model=None)
def signout(
    request: Request,
    caller: Principal = Depends(member),
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> Response:
    """The session row is deleted, so a copy of the cookie stops working too (the policy has checked
    the form's CSRF token: another site cannot sign people out)."""
    end_session(session, settings, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    delete_session_cookie(response, settings, request)
    return response


@router.get("/signin/link", dependencies=[Depends(anonymous)], response_model=None)
def signin_link(
    request: Request,
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> Response:
    """A one-time link (`make run` prints one for the first administrator): spent by its first use."""
    token = request.query_params.get("token", "")
    try:
        if not token or len(token) > MAX_LINK_TOKEN:
            raise AppError("no sign-in link token")
        user = redeem_signin_link(session, token)
    except AppError as exc:
        problem = "signin.link_spent" if exc.status_code == 410 else "signin.link_bad"
        status = 410 if exc.status_code == 410 else 400
        return signin_page(request, settings, status, problem=problem, show_form=False)
    return _signed_in(request, session, settings, user, "/")


def forbidden_page(request: Request, message: str) -> HTMLResponse:
    """What a browser gets for a 403 (a member on /admin, a stale form): a page, not JSON."""
    settings: Settings = request.app.state.settings
    response = render_page(
        request, settings, "problem.html", 403, heading="problem.forbidden", message=message
    )
    response.headers["Cache-Control"] = "no-store"
    return response
