"""Options shared by the commands that follow a convention after its signature."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import click

from pipeline.core.clock import today
from pipeline.core.i18n import _
from schemas.base import parse_date

F = TypeVar("F", bound=Callable[..., Any])
ENV_USER = "FIFTYFIFTY_USER"


class DateType(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    """A day: ``2027-06-30`` or ``30/06/2027``."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            parsed = parse_date(str(value))
        except ValueError:
            parsed = None
        if not isinstance(parsed, date):
            self.fail(_("{value!r} is not a date (YYYY-MM-DD or DD/MM/YYYY).").format(
                value=value), param, ctx)
        return parsed


class PeriodType(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    """A number of days: ``90``, ``90d``, ``12w``."""

    name = "period"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        m = re.fullmatch(r"\s*(\d{1,4})\s*([dw]?)\s*", str(value))
        if not m:
            self.fail(_("{value!r} is not a period (90d, 12w).").format(value=value),
                      param, ctx)
        return int(m.group(1)) * (7 if m.group(2) == "w" else 1)


DATE = DateType()
PERIOD = PeriodType()


def default_author() -> str:
    """``$FIFTYFIFTY_USER``, else the system user name."""
    return os.environ.get(ENV_USER) or getpass.getuser()


def on_option(func: F) -> F:
    """``--on DATE`` (default: today)."""
    return click.option("--on", "on", type=DATE, default=None,
                        help="Day it took effect (default: today).")(func)


def by_option(func: F) -> F:
    """``--by NAME``: the author recorded in the history."""
    return click.option("--by", "by", default=None, metavar="NAME",
                        help="Author recorded in the history (default: $FIFTYFIFTY_USER, "
                        "else the system user).")(func)


def resolve(on: date | None, by: str | None) -> tuple[date, str]:
    """The date (today when not given) and the author."""
    author = re.sub(r"[\x00-\x1f\x7f]", "", by or default_author()).strip()[:120] or "?"
    return on or today(), author
