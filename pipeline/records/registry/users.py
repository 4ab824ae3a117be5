"""Accounts of the town-hall staff who use the back-office: clerks and administrators.

Passwords are hashed with argon2id (``argon2-cffi``, its default memory-hard parameters)
and never stored nor logged in clear. Logging in goes through :func:`authenticate`, which
counts consecutive failures: after :data:`LOCK_AFTER` of them the account is locked for
:data:`LOCK_MINUTES` minutes, whatever password is given meanwhile. Every attempt is kept
in ``login_attempts``; every change of an account (added, disabled, enabled, locked) is an
event of the registry's history, with the person who made it as actor.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pipeline.core.errors import InputError, StateError
from pipeline.core.i18n import _
from pipeline.records.registry import Registry

__all__ = [
    "LOCK_AFTER",
    "LOCK_MINUTES",
    "MIN_PASSWORD",
    "ROLES",
    "AuthResult",
    "NewUser",
    "Role",
    "User",
    "add_user",
    "authenticate",
    "get_user",
    "list_users",
    "set_active",
    "set_password",
]

log = logging.getLogger(__name__)

Role = Literal["clerk", "admin"]
ROLES: tuple[Role, ...] = ("clerk", "admin")
LOCK_AFTER = 5
"""Consecutive wrong passwords that lock an account."""
LOCK_MINUTES = 15
"""How long a locked account stays locked."""
MIN_PASSWORD = 12
"""Shortest password accepted."""
LOGIN_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,31}")

EVENT_USER_ADDED = "user_added"
EVENT_USER_DISABLED = "user_disabled"
EVENT_USER_ENABLED = "user_enabled"
EVENT_USER_LOCKED = "user_locked"
EVENT_PASSWORD_CHANGED = "user_password_changed"  # noqa: S105 (an event name)
EVENT_LOGIN = "agent_login"
EVENT_LOGOUT = "agent_logout"

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
_dummies: dict[int, str] = {}


def _dummy() -> str:
    """A hash checked when the login is unknown, so that the answer takes as long."""
    key = id(_hasher)
    if key not in _dummies:
        _dummies[key] = _hasher.hash("not a password of anyone")
    return _dummies[key]

_COLUMNS = "login, name, role, active, failed_logins, locked_until, last_login, created_at"


@dataclass(frozen=True)
class User:
    """One account (never its password hash)."""

    login: str
    name: str
    role: Role
    active: bool
    failed_logins: int
    locked_until: str | None
    """ISO time until which logging in is refused, if locked."""
    last_login: str | None
    created_at: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def locked(self, now: datetime) -> bool:
        """True while the lock-out lasts."""
        return bool(self.locked_until) and datetime.fromisoformat(
            str(self.locked_until)) > now


@dataclass(frozen=True)
class NewUser:
    """What ``users add`` asks for."""

    login: str
    name: str
    role: Role
    password: str


@dataclass(frozen=True)
class AuthResult:
    """The outcome of one login attempt."""

    user: User | None
    """The account, when the password was right and the account may log in."""
    reason: Literal["ok", "unknown", "wrong", "disabled", "locked"]

    @property
    def ok(self) -> bool:
        return self.user is not None


def _row(r: tuple[object, ...]) -> User:
    return User(str(r[0]), str(r[1]), cast(Role, r[2]), bool(r[3]), int(cast(int, r[4])),
                cast("str | None", r[5]), cast("str | None", r[6]), str(r[7]))


def check_login(login: str) -> str:
    """The login if well formed (2 to 32 of ``a-z 0-9 . _ -``), else :class:`InputError`."""
    if not LOGIN_RE.fullmatch(login or ""):
        raise InputError(_("Invalid login {login!r}: use 2 to 32 lower-case letters, digits, "
                           "dots, dashes or underscores, starting with a letter or digit."
                           ).format(login=login))
    return login


def check_password(password: str) -> None:
    """Refuse a password shorter than :data:`MIN_PASSWORD` characters."""
    if len(password) < MIN_PASSWORD:
        raise InputError(_("The password is too short: at least {n} characters.").format(
            n=MIN_PASSWORD))


def get_user(reg: Registry, login: str) -> User | None:
    """The account with this login, or None."""
    r = reg.connection.execute(
        f"SELECT {_COLUMNS} FROM users WHERE login = ?", (login,)).fetchone()  # noqa: S608
    return _row(r) if r else None


def list_users(reg: Registry) -> list[User]:
    """Every account, by login."""
    return [_row(r) for r in reg.connection.execute(
        f"SELECT {_COLUMNS} FROM users ORDER BY login")]  # noqa: S608


def add_user(reg: Registry, new: NewUser, *, actor: str) -> User:
    """Create an account (refused when the login exists or the password is too short)."""
    check_login(new.login)
    if new.role not in ROLES:
        raise InputError(_("Unknown role {role!r}: expected clerk or admin.").format(
            role=new.role))
    name = " ".join(new.name.split())
    if not name or len(name) > 120:
        raise InputError(_("The name is required (at most 120 characters)."))
    check_password(new.password)
    digest = _hasher.hash(new.password)
    with reg.transaction():
        if get_user(reg, new.login) is not None:
            raise StateError(_("The login {login} already exists.").format(login=new.login))
        now = reg.now()
        reg.connection.execute(
            "INSERT INTO users (login, name, role, password_hash, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", (new.login, name, new.role, digest, now, now))
        reg.record_event(None, EVENT_USER_ADDED, actor,
                         {"login": new.login, "name": name, "role": new.role})
    user = get_user(reg, new.login)
    assert user is not None
    return user


def set_active(reg: Registry, login: str, active: bool, *, actor: str) -> User:
    """Disable an account (it can no longer log in) or enable it again (lock-out cleared)."""
    with reg.transaction():
        if get_user(reg, login) is None:
            raise StateError(_("No account {login}.").format(login=login))
        reg.connection.execute(
            "UPDATE users SET active = ?, failed_logins = 0, locked_until = NULL,"
            " updated_at = ? WHERE login = ?", (int(active), reg.now(), login))
        reg.record_event(None, EVENT_USER_ENABLED if active else EVENT_USER_DISABLED, actor,
                         {"login": login})
    user = get_user(reg, login)
    assert user is not None
    return user


def set_password(reg: Registry, login: str, password: str, *, actor: str) -> User:
    """Give an account a new password (and lift a lock-out); the old one stops working."""
    check_password(password)
    digest = _hasher.hash(password)
    with reg.transaction():
        if get_user(reg, login) is None:
            raise StateError(_("No account {login}.").format(login=login))
        reg.connection.execute(
            "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL,"
            " updated_at = ? WHERE login = ?", (digest, reg.now(), login))
        reg.record_event(None, EVENT_PASSWORD_CHANGED, actor, {"login": login})
    user = get_user(reg, login)
    assert user is not None
    return user


def _attempt(reg: Registry, login: str, ok: bool, reason: str, address: str) -> None:
    reg.connection.execute(
        "INSERT INTO login_attempts (login, at, ok, reason, address) VALUES (?, ?, ?, ?, ?)",
        (login[:64], reg.now(), int(ok), reason, address[:64]))


def _verify(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(reg: Registry, login: str, password: str, *, address: str = "",
                 now: datetime | None = None) -> AuthResult:
    """Check a login and password; count failures, lock after :data:`LOCK_AFTER`."""
    moment = now or datetime.now(UTC)
    login = (login or "").strip().lower()[:64]
    password = password[:1024]
    row = reg.connection.execute(
        "SELECT password_hash FROM users WHERE login = ?", (login,)).fetchone()
    good = _verify(row[0] if row else _dummy(), password)  # argon2 outside the transaction
    with reg.transaction():
        user = get_user(reg, login)
        if user is None or row is None:
            _attempt(reg, login, False, "unknown", address)
            return AuthResult(None, "unknown")
        if not user.active:
            _attempt(reg, login, False, "disabled", address)
            return AuthResult(None, "disabled")
        if user.locked(moment):
            _attempt(reg, login, False, "locked", address)
            return AuthResult(None, "locked")
        if not good:
            failed = user.failed_logins + 1
            until = None
            if failed >= LOCK_AFTER:
                until = (moment + timedelta(minutes=LOCK_MINUTES)).isoformat()
                failed = 0
                reg.record_event(None, EVENT_USER_LOCKED, "fiftyfifty",
                                 {"login": login, "until": until})
                log.warning("account %s locked after %d wrong passwords", login, LOCK_AFTER)
            reg.connection.execute(
                "UPDATE users SET failed_logins = ?, locked_until = ? WHERE login = ?",
                (failed, until, login))
            _attempt(reg, login, False, "wrong", address)
            return AuthResult(None, "locked" if until else "wrong")
        reg.connection.execute(
            "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login = ?"
            " WHERE login = ?", (moment.isoformat(), login))
        if _hasher.check_needs_rehash(row[0]):
            reg.connection.execute("UPDATE users SET password_hash = ? WHERE login = ?",
                                   (_hasher.hash(password), login))
        _attempt(reg, login, True, "ok", address)
        reg.record_event(None, EVENT_LOGIN, login, {})
    return AuthResult(get_user(reg, login), "ok")


def record_logout(reg: Registry, login: str) -> None:
    """Note in the history that a clerk logged out."""
    reg.record_event(None, EVENT_LOGOUT, login, {})
