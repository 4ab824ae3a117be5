"""``fiftyfifty users``: the accounts of the back-office (``/agents/`` in ``serve``)."""

from __future__ import annotations

import getpass
import os

import click

from pipeline.cli.common import emit_json, get_workspace, guarded, json_option, workspace_option
from pipeline.core.errors import InputError
from pipeline.core.i18n import _, ngettext
from pipeline.records.registry import Registry
from pipeline.records.registry.users import (
    ROLES,
    NewUser,
    Role,
    add_user,
    list_users,
    set_active,
    set_password,
)

ACTOR = "fiftyfifty users"


def _actor() -> str:
    try:
        return f"{ACTOR} ({getpass.getuser()})"
    except (KeyError, OSError):
        return ACTOR


def _password(env_var: str | None) -> str:
    if env_var:
        value = os.environ.get(env_var)
        if not value:
            raise InputError(f"The environment variable {env_var} is empty or not set.")
        return value
    first: str = click.prompt("Password", hide_input=True)
    again: str = click.prompt("Password (again)", hide_input=True)
    if first != again:
        raise InputError("The two passwords differ.")
    return first


@click.group("users")
def users_group() -> None:
    """Accounts of the town-hall staff who use the back-office in the browser.

    Clerks import batches, follow the conventions and check the archive; administrators
    also manage the accounts and the trust roots.

    \b
    Example:
      fiftyfifty users add mdupont --name "Marie Dupont" --role clerk
    """


@users_group.command("add")
@click.argument("login")
@click.option("--name", required=True, help="Full name, as shown in the back-office.")
@click.option("--role", type=click.Choice(ROLES), default="clerk", show_default=True,
              help="clerk, or admin (also manages accounts and trust roots).")
@click.option("--password-env", "password_env", metavar="VAR", default=None,
              help="Read the password from this environment variable (else it is asked for,"
                   " hidden).")
@workspace_option
def users_add_cmd(login: str, name: str, role: Role, password_env: str | None,
                  workspace: str | None) -> None:
    """Create an account (password of at least 12 characters, hashed with argon2id).

    \b
    Example:
      fiftyfifty users add mdupont --name "Marie Dupont" --role admin --password-env FF_PASS
    """
    with guarded():
        password = _password(password_env)
        ws = get_workspace(workspace)
        with Registry.open(ws.registry_path) as reg:
            user = add_user(reg, NewUser(login, name, role, password), actor=_actor())
        click.echo(_("Account {login} ({role}) created.").format(login=user.login, role=user.role))


def _set_active(login: str, workspace: str | None, active: bool) -> None:
    with guarded():
        ws = get_workspace(workspace)
        with Registry.open(ws.registry_path, create=False) as reg:
            user = set_active(reg, login, active, actor=_actor())
        click.echo((_("Account {login} enabled.") if active else _("Account {login} disabled."))
                   .format(login=user.login))


@users_group.command("disable")
@click.argument("login")
@workspace_option
def users_disable_cmd(login: str, workspace: str | None) -> None:
    """Disable an account: it can no longer log in (its history stays).

    \b
    Example:
      fiftyfifty users disable mdupont
    """
    _set_active(login, workspace, False)


@users_group.command("enable")
@click.argument("login")
@workspace_option
def users_enable_cmd(login: str, workspace: str | None) -> None:
    """Enable a disabled account again (also lifts a lock-out after wrong passwords).

    \b
    Example:
      fiftyfifty users enable mdupont
    """
    _set_active(login, workspace, True)


@users_group.command("password")
@click.argument("login")
@click.option("--password-env", "password_env", metavar="VAR", default=None,
              help="Read the new password from this environment variable (else it is asked"
                   " for, hidden).")
@workspace_option
def users_password_cmd(login: str, password_env: str | None, workspace: str | None) -> None:
    """Set a new password for an account (forgotten password); also lifts a lock-out.

    \b
    Example:
      fiftyfifty users password jmartin
    """
    with guarded():
        password = _password(password_env)
        ws = get_workspace(workspace)
        with Registry.open(ws.registry_path, create=False) as reg:
            user = set_password(reg, login, password, actor=_actor())
        click.echo(_("New password set for {login}.").format(login=user.login))


@users_group.command("list")
@workspace_option
@json_option
def users_list_cmd(workspace: str | None, as_json: bool) -> None:
    """List the accounts: login, name, role, state, last login.

    \b
    Example:
      fiftyfifty users list --json
    """
    with guarded():
        ws = get_workspace(workspace)
        with Registry.open(ws.registry_path) as reg:
            users = list_users(reg)
        if as_json:
            emit_json({"users": [{"login": u.login, "name": u.name, "role": u.role,
                                  "active": u.active, "locked_until": u.locked_until,
                                  "last_login": u.last_login} for u in users]})
            return
        for u in users:
            state = _("active") if u.active else _("disabled")
            click.echo(f"{u.login:20} {u.role:6} {state:9} {u.last_login or '-':26} {u.name}")
        click.echo(ngettext("{n} account.", "{n} accounts.", len(users)).format(n=len(users)))


def register(group: click.Group) -> None:
    group.add_command(users_group)
