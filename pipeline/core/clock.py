"""The one clock of the pipeline: ``$FIFTYFIFTY_TODAY`` (ISO date) fixes the day, for
reproducible documents and tests; otherwise the local date."""

from __future__ import annotations

import os
from datetime import date

from pipeline.core.errors import ConfigError

ENV_TODAY = "FIFTYFIFTY_TODAY"


def today() -> date:
    raw = os.environ.get(ENV_TODAY)
    if not raw:
        return date.today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"${ENV_TODAY}={raw!r} is not an ISO date (YYYY-MM-DD)") from None
