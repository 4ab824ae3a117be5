"""Paths of the source checkout the tests run from."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
"""The repository's root folder (``conventions/``, ``templates/``, ``README.md``…)."""
EXAMPLES = PROJECT_ROOT / "conventions" / "examples"
"""The bundled example intakes."""
