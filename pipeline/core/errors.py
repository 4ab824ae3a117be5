"""Errors that stop a whole batch or command.

Row-level problems are never raised: they are :class:`pipeline.validation.reports.Issue` data.
Everything here derives from :class:`PipelineError`; the CLI maps each class to an
exit code and a one-line message (tracebacks only with ``--verbose``).

    PipelineError                  exit 3 unless stated
    ├── ConfigError                a convention type, commune profile or option is unusable
    ├── TemplateError              a Word template is missing, corrupt or unsafe
    ├── InputError                 an input file cannot be opened at all (exit 2)
    ├── ConverterError             LibreOffice is missing or unusable
    ├── RegistryError              the registry cannot be opened, is locked or corrupt
    ├── ArchiveError               a file cannot be written safely, or a path escapes
    ├── SigningError               a signature cannot be made (exit 1): wrong order,
    │                              wrong passphrase, expired certificate, bad state
    └── StateError                 a registry transition that is not allowed (exit 1)
"""

from __future__ import annotations


class PipelineError(Exception):
    """Root of every error that stops a command. ``msg`` is meant for a clerk."""

    exit_code: int = 3

    def __init__(self, msg: str, *, hint: str | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.hint = hint

    def __str__(self) -> str:
        return self.msg if not self.hint else f"{self.msg}\n{self.hint}"


class ConfigError(PipelineError):
    """A convention type file, the commune profile or a setting is unusable."""


class TemplateError(PipelineError):
    """A Word template is missing, corrupt, or tried something the sandbox forbids."""


class InputError(PipelineError):
    """An input path does not exist or is not a supported format."""

    exit_code = 2


class ConverterError(PipelineError):
    """LibreOffice is missing or cannot convert at all."""


class RegistryError(PipelineError):
    """The registry database is unusable (corrupt, read-only, locked past its timeout)."""


class ArchiveError(PipelineError):
    """The archive cannot be written safely, or a path would escape it."""


class SigningError(PipelineError):
    """A signature was refused; nothing was written."""

    exit_code = 1


class StateError(PipelineError):
    """A convention is not in a state that allows the requested action."""

    exit_code = 1
