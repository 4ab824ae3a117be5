"""French wording shared by the schemas and the documents: the preposition « de » before a
name, with its elision and contractions ("d'Inès", "du Touquet", "de la Bassée").

Pure string functions (no locale data), so the signatories derived in
:mod:`schemas.convention` and the filters of the templates write the same French."""

from __future__ import annotations

__all__ = ["de", "elides"]

_VOWELS = frozenset("aeiouàâäéèêëîïôöùûüœæ")
_ARTICLES = (("les ", "des "), ("le ", "du "), ("la ", "de la "), ("l'", "de l'"),
             ("l\u2019", "de l\u2019"))


def elides(word: str) -> bool:
    """Whether « de » is elided before ``word``: a vowel, a mute h (« d'Hélène ») or a y
    sounded as a vowel (« d'Yves », but « de Yanis » where it is a consonant). Names that
    begin with an aspirated h are rare among first names and are written « d' » too."""
    head = word.lstrip()[:2].casefold()
    first = head[:1]
    if first == "y":
        return head[1:2] not in _VOWELS
    return first in _VOWELS or first == "h"


def de(name: str) -> str:
    """« de » and ``name``: ``d'Inès Moreau``, ``de Léo``, ``du Touquet`` (Le Touquet),
    ``des Mureaux`` (Les Mureaux), ``de la Bassée`` (La Bassée), ``de l'Isle``."""
    text = name.strip()
    lowered = text.casefold()
    for article, contracted in _ARTICLES:
        if lowered.startswith(article) and len(text) > len(article):
            return contracted + text[len(article):]
    if not text:
        return "de"
    return ("d'" if elides(text) else "de ") + text
