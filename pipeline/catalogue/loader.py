"""Load the document-driven catalogue: convention types and the commune profile."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml
from pydantic import ValidationError

from pipeline.catalogue.project import project_dir
from pipeline.core.errors import ConfigError
from pipeline.core.i18n import _
from schemas.catalogue import CommuneProfile, ConventionType

ENV_CATALOGUE = "FIFTYFIFTY_CATALOGUE"
DEFAULT_TYPE = "fifty-fifty"
PROFILE_FILE = "commune.yaml"
T = TypeVar("T")


def catalogue_dir(given: str | os.PathLike[str] | None = None) -> Path:
    """``given``, else ``$FIFTYFIFTY_CATALOGUE``, else the project folder's ``conventions/``
    (see :mod:`pipeline.catalogue.project`)."""
    raw = given or os.environ.get(ENV_CATALOGUE)
    return Path(raw).expanduser().absolute() if raw else project_dir() / "conventions"


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(_("{path}: file not found").format(path=path)) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(_("{path}: not valid YAML ({reason})").format(path=path,
                                                                      reason=exc)) from None
    if not isinstance(data, dict):
        raise ConfigError(_("{path}: expected a mapping of keys at the top level").format(
            path=path))
    return data


def _explain(path: Path, exc: ValidationError) -> ConfigError:
    lines = [
        f"  key {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
        for e in exc.errors()
    ]
    return ConfigError(f"{path}: invalid configuration\n" + "\n".join(lines))


_LOADED: dict[tuple[str, Path], tuple[bytes, Any]] = {}
"""Files already parsed and checked in this process, by kind and path, with the digest
of the content they had: a file that changed is parsed again."""


def _once(kind: str, path: Path, load: Callable[[Path], T]) -> T:
    """``load(path)``, or what it gave for the same unchanged file earlier in this process
    (commands that sign or check many conventions ask for the catalogue many times)."""
    try:
        digest = hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        return load(path)  # which says what is wrong with the file
    found = _LOADED.get((kind, path))
    if found is not None and found[0] == digest:
        return cast(T, found[1])
    value = load(path)
    _LOADED[(kind, path)] = (digest, value)
    return value


def load_type(path: Path) -> ConventionType:
    """Load and check one convention type file (once per process while it is unchanged)."""
    return _once("type", path, _load_type)


def _load_type(path: Path) -> ConventionType:
    data = _read_yaml(path)
    data.setdefault("id", path.stem)
    try:
        ctype = ConventionType.model_validate(data)
    except ValidationError as exc:
        raise _explain(path, exc) from None
    if ctype.id != path.stem:
        raise ConfigError(_("{path}: key id is {id} but the file is named {name}").format(
            path=path, id=repr(ctype.id), name=repr(path.name)))
    return ctype


def load_profile(path: Path) -> CommuneProfile:
    """Load and check the commune profile (once per process while it is unchanged)."""
    return _once("profile", path, _load_profile)


def _load_profile(path: Path) -> CommuneProfile:
    try:
        return CommuneProfile.model_validate(_read_yaml(path))
    except ValidationError as exc:
        raise _explain(path, exc) from None


@dataclass
class Catalogue:
    """The convention types and the commune profile of one catalogue folder."""

    root: Path
    _types: dict[str, ConventionType] = field(default_factory=dict)

    @classmethod
    def load(cls, given: str | os.PathLike[str] | None = None) -> Catalogue:
        root = catalogue_dir(given)
        if not root.is_dir():
            raise ConfigError(_("{path}: catalogue folder not found").format(path=root))
        cat = cls(root)
        cat.profile  # noqa: B018 -- fail early on a bad profile
        return cat

    @cached_property
    def profile(self) -> CommuneProfile:
        return load_profile(self.root / PROFILE_FILE)

    def type_ids(self) -> list[str]:
        return sorted(p.stem for p in self.root.glob("*.yaml") if p.name != PROFILE_FILE)

    def get(self, type_id: str) -> ConventionType:
        """The convention type ``type_id``, loaded once."""
        if type_id not in self._types:
            path = self.root / f"{type_id}.yaml"
            if not path.is_file():
                raise ConfigError(_("{path}: no such convention type (known: {known})").format(
                    path=path, known=", ".join(self.type_ids()) or "-"))
            self._types[type_id] = load_type(path)
        return self._types[type_id]

    def template_path(self, ctype: ConventionType) -> Path:
        """The Word template of a type: relative to the catalogue's parent folder."""
        path = Path(ctype.template)
        return path if path.is_absolute() else (self.root.parent / path).resolve()
