"""`evalboard users` and `evalboard tokens`: people and their API tokens, from the server's shell.

Changes made here are written to the audit log as the command line's."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from app.auth import accounts, audit
from app.config import get_settings
from app.db import session_scope
from app.errors import AppError

users_app = typer.Typer(help="People who may sign in and submit.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (shown once; stored as hashes).", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)


class RoleName(StrEnum):
    admin = "admin"
    member = "member"


@contextmanager
def _database() -> Iterator[Session]:
    """A session whose expected failures print one line and exit 2 (nothing is written)."""
    from app.migrate import upgrade

    upgrade()
    try:
        with session_scope(get_settings().resolved_database_url) as session:
            yield session
    except AppError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None


def _when(value: object) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "-"


@users_app.command("add")
def add_user(
    name: str,
    role: Annotated[RoleName, typer.Option("--role", help="admin or member")] = RoleName.member,
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a password for the web sign-in from stdin.")
    ] = False,
) -> None:
    """Add a person. Without a password they use API tokens only."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with _database() as session:
        user = accounts.add_user(session, name, role=role.value, display_name=display_name, password=password)
        audit.record(session, None, "user.add", "user", user.name, after={"role": user.role})
    console.print(f"added {role.value} {name}" + (" with a password" if password else ""))


@users_app.command("list")
def list_users() -> None:
    with _database() as session:
        table = Table("name", "display name", "role", "disabled", "created")
        for user in accounts.list_users(session):
            table.add_row(
                user.name,
                user.display_name,
                user.role,
                "yes" if user.disabled else "",
                _when(user.created_at),
            )
    Console(width=200).print(table)


@users_app.command("password")
def set_password(name: str) -> None:
    """Set or replace a person's web sign-in password, read from stdin (their sessions end)."""
    password = sys.stdin.readline().rstrip("\r\n")
    with _database() as session:
        user = accounts.get_user(session, name)
        accounts.set_password(session, user, password)
        audit.record(session, None, "user.password", "user", name)
    console.print(f"password set for {name}; they sign in again everywhere")


@users_app.command("disable")
def disable_user(name: str) -> None:
    """Disable a person: their sessions end and their tokens stop working."""
    with _database() as session:
        user = accounts.get_user(session, name)
        accounts.disable_user(session, user)
        audit.record(
            session, None, "user.disable", "user", name, before={"disabled": False}, after={"disabled": True}
        )
    console.print(f"disabled {name}")


@tokens_app.command("create")
def create_token(
    name: Annotated[str, typer.Argument(help="Whose token (a user name).")],
    label: Annotated[str | None, typer.Option("--label", help="What the token is for.")] = None,
    expires_days: Annotated[int | None, typer.Option("--expires-days", min=1, max=3650)] = None,
) -> None:
    """Create a token. It is printed once, alone on the last line of stdout."""
    with _database() as session:
        issued = accounts.create_token(
            session, accounts.get_user(session, name), label=label, expires_days=expires_days
        )
        audit.record(
            session, None, "token.create", "token", issued.prefix, after={"user": name, "name": issued.name}
        )
    expiry = f", expires {_when(issued.expires_at)} UTC" if issued.expires_at else ""
    print(f"token {issued.prefix}... for {name} ({issued.name}{expiry}); it is shown only now:")
    print(issued.token)


@tokens_app.command("list")
def list_tokens(name: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None) -> None:
    with _database() as session:
        user = accounts.get_user(session, name) if name else None
        table = Table("prefix", "user", "label", "created", "last used", "expires", "revoked")
        for token, owner in accounts.list_tokens(session, user):
            table.add_row(
                token.prefix, owner, token.name, _when(token.created_at), _when(token.last_used_at),
                _when(token.expires_at), _when(token.revoked_at),
            )  # fmt: skip
    Console(width=200).print(table)


@tokens_app.command("revoke")
def revoke_token(
    prefix: Annotated[str, typer.Argument(help="The token's prefix (evb_ and 8 characters).")],
) -> None:
    with _database() as session:
        token = accounts.find_token(session, prefix)
        accounts.revoke_token(session, token)
        audit.record(session, None, "token.revoke", "token", token.prefix)
    console.print(f"revoked {prefix}")
