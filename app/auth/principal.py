"""Who is calling: the person behind a token or a web session, as every policy check sees it."""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.tables import Role


@dataclass(frozen=True)
class Principal:
    user_id: int
    name: str
    role: str
    via: str  # token | session
    token_prefix: str | None = None
    csrf_token: str | None = None  # web sessions: what every form POST must carry

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def rate_key(self) -> str:
        """Rate limits count per token (each token its own budget) and per signed-in person."""
        return f"token:{self.token_prefix}" if self.token_prefix else f"user:{self.user_id}"

    def may_act_on(self, owner_id: int | None) -> bool:
        """Owners act on their own rows, admins on everyone's; rows without an owner (made before
        accounts existed, or by the CLI) belong to admins."""
        return self.is_admin or (owner_id is not None and owner_id == self.user_id)
