"""The convention's whole life after it is produced: drafts, statuses after signature,
upkeep obligations (due list, iCalendar, checks, reminders), amendments, the timeline.

Sits above signatures/records/documents and below the runner and the CLI. Modules:
``drafts`` (``run --draft`` outside the numbered series), ``statuses`` (works,
termination with the pro-rata repayment, cancellation), ``obligations`` (what falls due),
``calendar`` (RFC 5545), ``checks``, ``reminders`` (e-mail), ``amendments`` (avenants),
``timeline`` (``registry show``), ``terms`` (the terms in force, from the archive).
"""

from __future__ import annotations
