"""Administrators' actions on a model: flag it with a reason, take the flag off, hide it, show it again.

Each one changes the model row, writes one audit_log row (the state before and after) and re-derives
the model's board rows in the same transaction (app.leaderboard.entries.refresh_model), so the board,
its exports and every cached view agree with the model the moment the request commits. Results are
never touched: hiding takes a model off the boards, not out of the database.

An action that would change nothing (flagging with the reason it already has, unflagging a model
without a flag, hiding a hidden one, showing a visible one) is a 409 that writes nothing: an audit row
saying "hidden -> hidden" would be noise, and the caller most likely acted on a stale page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.principal import Principal
from app.errors import Conflict
from app.leaderboard.entries import refresh_model
from app.submissions.service import get_model
from app.tables import LlmModel


def _state(model: LlmModel) -> dict[str, Any]:
    return {"flag_reason": model.flag_reason, "hidden": bool(model.hidden)}


def _changed(
    session: Session,
    model: LlmModel,
    caller: Principal,
    action: str,
    before: dict[str, Any],
    private_dir: Path | None,
) -> LlmModel:
    session.flush()
    refresh_model(session, model.id, private_dir)
    audit.record(session, caller, action, "model", model.id, before=before, after=_state(model))
    return model


def flag(
    session: Session, model_id: int, reason: str, caller: Principal, private_dir: Path | None
) -> LlmModel:
    """Flag the model, or change the reason of its flag."""
    model = get_model(session, model_id)
    if model.flag_reason == reason:
        raise Conflict(f"model {model_id} is already flagged with that reason")
    before = _state(model)
    model.flag_reason = reason
    return _changed(session, model, caller, "model.flag", before, private_dir)


def unflag(session: Session, model_id: int, caller: Principal, private_dir: Path | None) -> LlmModel:
    model = get_model(session, model_id)
    if model.flag_reason is None:
        raise Conflict(f"model {model_id} is not flagged by an administrator; there is no flag to remove")
    before = _state(model)
    model.flag_reason = None
    return _changed(session, model, caller, "model.unflag", before, private_dir)


def set_hidden(
    session: Session, model_id: int, hidden: bool, caller: Principal, private_dir: Path | None
) -> LlmModel:
    """hidden: leave every board and export (results kept); False: back, with its rank."""
    model = get_model(session, model_id)
    if bool(model.hidden) == hidden:
        state = "hidden" if hidden else "not hidden"
        raise Conflict(f"model {model_id} is already {state}")
    before = _state(model)
    model.hidden = hidden
    return _changed(session, model, caller, "model.hide" if hidden else "model.unhide", before, private_dir)
