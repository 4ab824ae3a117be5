"""Invitations to sign online and their steps, kept in the registry (migration 4).

Plain SQL over the registry's connection and transactions; no token or code is stored in
clear (the callers hash them). Times are ISO 8601 UTC text, as everywhere in the registry.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipeline.core.errors import StateError
from pipeline.records.registry.conventions import Registry

__all__ = ["InvitationRow", "InvitationStore", "StepRow"]

_COLUMNS = ("id, convention_id, signatory, name, email, token_hash, created_at, expires_at,"
            " state, closed_at, code_hash, code_expires_at, code_attempts, locked, verified_at")


@dataclass(frozen=True)
class InvitationRow:
    """One personal link sent to one signatory."""

    id: int
    convention_id: str
    signatory: str
    name: str
    email: str
    token_hash: str
    created_at: str
    expires_at: str
    state: str
    closed_at: str | None
    code_hash: str | None
    """``salt$sha256`` of the current one-time code, if one was sent."""
    code_expires_at: str | None
    code_attempts: int
    locked: bool
    verified_at: str | None

    def expired(self, now: datetime) -> bool:
        """The link's validity has run out."""
        return datetime.fromisoformat(self.expires_at) <= now

    def usable(self, now: datetime) -> bool:
        """Active, not expired, not locked."""
        return self.state == "active" and not self.expired(now) and not self.locked


@dataclass(frozen=True)
class StepRow:
    """One step of the signing journey (for the evidence file)."""

    at: str
    step: str
    ip: str | None
    user_agent: str | None
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "step": self.step, "ip": self.ip,
                "user_agent": self.user_agent, "details": self.details}


def _row(r: sqlite3.Row | tuple[Any, ...]) -> InvitationRow:
    v = tuple(r)
    return InvitationRow(int(v[0]), v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9],
                         v[10], v[11], int(v[12]), bool(v[13]), v[14])


def utc_now() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


class InvitationStore:
    """The invitations of one registry."""

    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        self._conn = reg.connection

    def create(self, convention_id: str, signatory: str, name: str, email: str,
               token_hash: str, expires_at: datetime) -> InvitationRow:
        """A new active invitation (callers replace the previous one in the same transaction)."""
        with self.reg.transaction():
            cur = self._conn.execute(
                "INSERT INTO web_invitations (convention_id, signatory, name, email, token_hash,"
                " created_at, expires_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'active')",
                (convention_id, signatory, name, email, token_hash, utc_now().isoformat(),
                 expires_at.astimezone(UTC).isoformat()),
            )
            return self.get(int(cur.lastrowid or 0))

    def get(self, invitation_id: int) -> InvitationRow:
        r = self._conn.execute(f"SELECT {_COLUMNS} FROM web_invitations WHERE id = ?",  # noqa: S608
                               (invitation_id,)).fetchone()
        if r is None:
            raise StateError(f"No invitation {invitation_id}.")
        return _row(r)

    def by_token_hash(self, token_hash: str) -> InvitationRow | None:
        """The invitation whose link has this hash (an indexed lookup of a hash, not of the
        token: timing reveals nothing about a valid token)."""
        r = self._conn.execute(
            f"SELECT {_COLUMNS} FROM web_invitations WHERE token_hash = ?",  # noqa: S608
            (token_hash,)).fetchone()
        return _row(r) if r else None

    def of_convention(self, convention_id: str) -> list[InvitationRow]:
        """Every invitation of a convention, oldest first."""
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM web_invitations WHERE convention_id = ? ORDER BY id",  # noqa: S608
            (convention_id,))
        return [_row(r) for r in rows]

    def active(self, convention_id: str, signatory: str) -> InvitationRow | None:
        """The signatory's active invitation, if any."""
        for inv in reversed(self.of_convention(convention_id)):
            if inv.signatory == signatory and inv.state == "active":
                return inv
        return None

    def close(self, invitation_id: int, state: str) -> InvitationRow:
        """Move an active invitation to ``signed``, ``declined``, ``revoked`` or ``replaced``."""
        with self.reg.transaction():
            cur = self._conn.execute(
                "UPDATE web_invitations SET state = ?, closed_at = ? WHERE id = ?"
                " AND state = 'active'", (state, utc_now().isoformat(), invitation_id))
            if cur.rowcount != 1:
                raise StateError("This invitation is no longer active.")
            return self.get(invitation_id)

    def set_code(self, invitation_id: int, code_hash: str, expires_at: datetime) -> None:
        """A new one-time code replaces the previous one (attempts are kept)."""
        with self.reg.transaction():
            self._conn.execute(
                "UPDATE web_invitations SET code_hash = ?, code_expires_at = ?, verified_at ="
                " NULL WHERE id = ?",
                (code_hash, expires_at.astimezone(UTC).isoformat(), invitation_id))

    def failed_attempt(self, invitation_id: int, max_attempts: int) -> InvitationRow:
        """Count a wrong code; lock the invitation at ``max_attempts``."""
        with self.reg.transaction():
            self._conn.execute(
                "UPDATE web_invitations SET code_attempts = code_attempts + 1,"
                " locked = (code_attempts + 1 >= ?) WHERE id = ?",
                (max_attempts, invitation_id))
            return self.get(invitation_id)

    def verified(self, invitation_id: int) -> None:
        """The code was right: it is spent."""
        with self.reg.transaction():
            self._conn.execute(
                "UPDATE web_invitations SET verified_at = ?, code_hash = NULL WHERE id = ?",
                (utc_now().isoformat(), invitation_id))

    def add_step(self, invitation_id: int, step: str, *, ip: str | None = None,
                 user_agent: str | None = None, details: dict[str, Any] | None = None) -> None:
        """Record one step of the journey."""
        with self.reg.transaction():
            self._conn.execute(
                "INSERT INTO web_signing_steps (invitation_id, at, step, ip, user_agent, details)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (invitation_id, utc_now().isoformat(), step, ip, (user_agent or "")[:400],
                 json.dumps(details or {}, ensure_ascii=False, sort_keys=True)))

    def steps(self, invitation_id: int) -> list[StepRow]:
        """The steps of one invitation, in order."""
        rows = self._conn.execute(
            "SELECT at, step, ip, user_agent, details FROM web_signing_steps"
            " WHERE invitation_id = ? ORDER BY id", (invitation_id,))
        return [StepRow(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]
