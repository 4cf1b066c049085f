"""One-time sign-in links: how the first administrator of a fresh `make run` gets into the web pages
without a password, and how an admin can let someone in once. The link carries 32 random bytes; only
their SHA-256 is stored, and the row is spent by the first successful use."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.auth.credentials import digest, new_secret
from app.auth.tables import SignInLink, User
from app.db import utcnow
from app.errors import AppError, InvalidInput

MAX_LINK_MINUTES = 7 * 24 * 60
LINK_PATH = "/signin/link"


class BadLink(AppError):
    """Not a link this server made (mistyped, cut short, or its user is gone or disabled)."""

    status_code = 400


class SpentLink(AppError):
    """A real link that no longer works: used once already, or past its time."""

    status_code = 410


SPENT = "this sign-in link was already used or has expired; ask an administrator for a new one"


def create_signin_link(session: Session, user: User, minutes: int = 60) -> str:
    """The token to put after `/signin/link?token=`; shown once, never stored."""
    if not 1 <= minutes <= MAX_LINK_MINUTES:
        raise InvalidInput(f"a sign-in link lasts 1 to {MAX_LINK_MINUTES} minutes", field="minutes")
    token = new_secret()
    expires_at = utcnow() + timedelta(minutes=minutes)
    session.add(SignInLink(token_hash=digest(token), user_id=user.id, expires_at=expires_at))
    session.flush()
    return token


def signin_link_path(token: str) -> str:
    return f"{LINK_PATH}?token={token}"


def redeem_signin_link(session: Session, token: str) -> User:
    """Spends the link and returns its user. The conditional UPDATE makes two simultaneous uses of one
    link end with one winner on either database, without a lock held across the request."""
    link = session.get(SignInLink, digest(token))
    if link is None:
        raise BadLink("this sign-in link is not valid: check that it was copied whole, or ask for a new one")
    now = utcnow()
    if link.used_at is not None or link.expires_at <= now:
        raise SpentLink(SPENT)
    spent = session.execute(
        update(SignInLink)
        .where(SignInLink.token_hash == link.token_hash, SignInLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(spent, "rowcount", 0) != 1:
        raise SpentLink(SPENT)
    user = session.get(User, link.user_id)
    if user is None or user.disabled:
        raise BadLink("this sign-in link is not valid: check that it was copied whole, or ask for a new one")
    return user
