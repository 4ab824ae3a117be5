"""Messages in French by default and English on request, gettext catalogs complete and
compiled, and issue codes stable and documented."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from click.testing import CliRunner
from paths import PROJECT_ROOT
from registry_driver import run_batch

from pipeline.cli import COMMANDS, main
from pipeline.cli.localise import help_texts
from pipeline.core.i18n import LOCALE_DIR, language_from_argv
from pipeline.core.issues import CODES
from pipeline.core.workspace import Workspace
from pipeline.records.registry import Registry

CATALOGS = sorted((LOCALE_DIR / "fr" / "LC_MESSAGES").glob("*.po"))
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def french() -> dict[object, object]:
    """Every message id of every French catalog, with its translation."""
    out: dict[object, object] = {}
    for po in CATALOGS:
        with po.open("rb") as fp:
            for message in read_po(fp, locale="fr"):
                if message.id:
                    out[message.id] = message.string
    return out


def wrapped_messages() -> list[tuple[str, int, object]]:
    """Every message wrapped in ``_()``, ``N_()`` or ``ngettext()`` in the code base."""
    found: list[tuple[str, int, object]] = []
    for folder in ("pipeline", "schemas"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
                PROJECT_ROOT / folder, keywords=KEYWORDS, comment_tags=()):
            found.append((f"{folder}/{filename}", lineno, message))
    return found


def test_the_catalogs_exist() -> None:
    assert {p.stem for p in CATALOGS} >= {"cli", "validation"}


def test_every_wrapped_message_has_a_french_translation() -> None:
    translations = french()
    messages = wrapped_messages()
    assert len(messages) > 150
    missing = []
    for where, line, message in messages:
        string = translations.get(message)
        if not string or (isinstance(string, tuple) and not all(string)):
            missing.append(f"{where}:{line}: {message!r}")
    assert not missing, "no French translation (run make i18n):\n" + "\n".join(missing)


def _entries(messages: object) -> dict[object, object]:
    """Message id to translation, plural ids and forms as tuples (read_mo gives lists)."""
    def frozen(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {frozen(m.id): frozen(m.string) for m in messages if m.id}  # type: ignore[attr-defined]


def test_every_mo_matches_its_po() -> None:
    for po in CATALOGS:
        mo = po.with_suffix(".mo")
        assert mo.is_file(), f"{mo.name} is not compiled (make i18n)"
        with po.open("rb") as fp:
            source = _entries(read_po(fp, locale="fr"))
        with mo.open("rb") as fp:
            compiled = _entries(read_mo(fp))
        assert compiled == source, f"{mo.name} is stale: run make i18n"
        header = po.read_text(encoding="utf-8")
        assert "Plural-Forms: nplurals=2; plural=(n > 1);" in header


def test_every_help_text_of_every_command_is_translated() -> None:
    translations = french()
    main.load_all()
    texts = help_texts(main) + [entry.summary for entry in COMMANDS.values()]
    missing = [t for t in texts if not translations.get(t)]
    assert not missing, missing


def test_lang_is_read_from_the_arguments() -> None:
    assert language_from_argv(["--lang", "en", "validate"]) == "en"
    assert language_from_argv(["validate", "--lang=fr"]) == "fr"
    assert language_from_argv(["--", "--lang", "en"]) is None
    assert language_from_argv(["--lang", "de"]) is None


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def test_validate_speaks_french_then_english(examples_dir: Path) -> None:
    code, out = cli("validate", str(examples_dir))
    assert code == 1
    assert "5 acceptés, 1 rejeté, 6 enregistrements." in out
    assert "REJETÉ   public-meeting-2026-11.csv ligne 4" in out
    assert "champ" not in out or "Input should" not in out
    assert "la fin des travaux (01/05/2027) doit être après leur début" in out
    code, out = cli("--lang", "en", "validate", str(examples_dir))
    assert "5 accepted, 1 rejected, 6 records." in out
    assert "REJECTED public-meeting-2026-11.csv row 4" in out
    assert "the end of the works (01/05/2027) must come after their start" in out
    code, out = cli("validate", str(examples_dir), env={"LANG": "en_GB.UTF-8"})
    assert "5 accepted, 1 rejected, 6 records." in out
    code, out = cli("validate", str(examples_dir / "skatepark.json"))
    assert "1 accepté, 0 rejeté, 1 enregistrement." in out


def test_pydantic_messages_are_never_english(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"title": 12, "council_decision": {"date": "demain"}, '
                   '"holders": [{"kind": "person", "name": "Inès", "minor": 3}], '
                   '"upkeep": {"years": "trois"}}', encoding="utf-8")
    code, out = cli("validate", str(bad))
    assert code == 1
    assert "Input should" not in out and "valid" not in out
    assert "répondez oui ou non" in out and "un nombre entier est attendu" in out
    code, out = cli("--lang", "en", "validate", str(bad))
    assert "answer yes or no" in out and "a whole number is expected" in out


def test_help_in_both_languages() -> None:
    code, out = cli("validate", "--help")
    assert code == 0 and "Vérifier des fiches de saisie" in out and "Exemple :" in out
    code, out = cli("--lang", "en", "validate", "--help")
    assert code == 0 and "Check intake files" in out and "Example:" in out
    code, out = cli("intake-template", "--help")
    assert "Colonnes pour ce nombre de porteurs" in out
    code, out = cli("--help")
    assert "Langue des messages" in out


def test_errors_and_paths_in_french(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "absent.csv"])
    assert result.exit_code == 2
    assert "Erreur : absent.csv : fichier introuvable" in result.stderr
    result = CliRunner().invoke(main, ["intake-template", "--format", "csv", "-o",
                                       str(tmp_path / "forms" / "f.csv")])
    assert "Formulaire de saisie écrit dans forms/f.csv" in result.output


def test_registry_show_for_a_clerk(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with Registry.open(ws.registry_path) as reg:
        run_batch(ws, reg, [{"reference": "R1", "content": "jardin"}])
        reg.set_status("FF_2026_001", "signing", actor="agent")
        reg.record_event("FF_2026_001", "signed", "signing",
                         {"signatory": "holder-1", "signer": "Lina Haddad"})
    code, out = cli("registry", "show", "FF_2026_001", "-w", str(ws.root))
    assert code == 0, out
    assert "commune 1\u202f500,00\xa0€, en nature 800,50\xa0€" in out
    assert "du 01/03/2026 au 30/09/2026" in out
    assert "statut en cours de signature, version 1" in out  # the status in words
    assert "Historique :" in out and "numéro attribué" in out and "signée" in out
    assert "par Lina Haddad (holder-1)" in out
    assert "{" not in out                             # no JSON in the text form
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d  numéro attribué", out)
    code, out = cli("--lang", "en", "registry", "show", "FF_2026_001", "-w", str(ws.root))
    assert "History:" in out and "number allocated" in out
    assert "status being signed, version 1" in out


def code_literals() -> set[str]:
    """Every issue code written in the code base."""
    pattern = re.compile(r'"((?:intake|schema|rule|batch|run)\.[a-z-]+)"')
    found: set[str] = set()
    for folder in ("pipeline", "schemas"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            found.update(pattern.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_code_emitted_is_known() -> None:
    literals = code_literals()
    assert len(literals) > 40
    assert literals <= set(CODES), sorted(literals - set(CODES))


def test_readme_lists_every_code() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [code for code in CODES if f"`{code}`" not in readme]
    assert not missing, missing


def test_issue_codes_in_reports_and_json(tmp_path: Path, examples_dir: Path) -> None:
    report = tmp_path / "rapport.csv"
    code, _ = cli("validate", str(examples_dir), "--report", str(report))
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "source;row;reference;status;severity;code;field;message;value"
    statuses = {line.split(";")[3] for line in lines[1:]}
    assert statuses == {"rejected", "warned", "accepted"}   # every record is listed
    assert any(";rule.commune-share;" in line for line in lines)
    assert any(line.startswith("rural-paths.json;1;") for line in lines)
    code, out = cli("validate", "--json", str(examples_dir))
    assert code == 1
    doc = json.loads(out)
    assert all(i["code"] in CODES for i in doc["issues"])
    assert len(doc["records"]) == 6
