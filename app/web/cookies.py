"""The cookies of the web pages: the session cookie and the pre-sign-in CSRF cookie. Both are HttpOnly
(no script needs them: the pages carry their CSRF token in the markup) and SameSite=Lax (sent on a
top-level navigation from a link, never on another site's form POST or fetch)."""

from __future__ import annotations

from fastapi import Request, Response

from app.auth.credentials import new_secret
from app.auth.web_sessions import CSRF_COOKIE, SESSION_COOKIE
from app.config import Settings

# A token from new_secret() is 43 characters; anything far off that was not made here.
CSRF_COOKIE_LENGTHS = range(32, 129)


def secure_cookies(settings: Settings, request: Request) -> bool:
    """Secure when configured so, or by default when the request came over https (behind a proxy
    that terminates TLS, set EVALBOARD_COOKIE_SECURE=true or run uvicorn with --proxy-headers)."""
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return request.url.scheme == "https"


def set_session_cookie(response: Response, settings: Settings, request: Request, value: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=int(settings.session_hours * 3600),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings, request),
    )


def delete_session_cookie(response: Response, settings: Settings, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(settings, request)
    )


def presignin_token(request: Request) -> tuple[str, bool]:
    """The sign-in form's double-submit token: (value, whether it is new and must be set)."""
    value = request.cookies.get(CSRF_COOKIE)
    if value and len(value) in CSRF_COOKIE_LENGTHS:
        return value, False
    return new_secret(), True


def set_presignin_cookie(response: Response, settings: Settings, request: Request, value: str) -> None:
    # A session cookie (no Max-Age): it only has to outlive the sign-in form.
    response.set_cookie(
        CSRF_COOKIE, value, path="/", httponly=True, samesite="lax", secure=secure_cookies(settings, request)
    )


def delete_presignin_cookie(response: Response, settings: Settings, request: Request) -> None:
    response.delete_cookie(
        CSRF_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(settings, request)
    )
