"""The themes report's words in each language participants' pages speak. Pure.

A French convention's rapporteur reads the report aloud and pastes it into the assembly's
own report: it is written in the event's language, numbers as that language writes them.
A phrase is one text, or (one, other) forms chosen by `n` under the language's rule; `{name}`
is filled from the arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

from .languages import DEFAULT_LANGUAGE

Phrase = str | tuple[str, str]

NBSP = "\u00a0"  # French puts one before : ; and inside « »
NNBSP = "\u202f"  # French and German group thousands with it; French puts one before %

_EN: dict[str, Phrase] = {
    "heading": "{title}: themes",
    "made": "{notes} from {tables}, report made {at}.",
    "notes": ("{n} note", "{n} notes"),
    "from_tables": ("{n} table", "{n} tables"),
    "no_themes": "No themes have been made for this event yet.",
    "as_of": "Themes as of version {version}: {themes}, {unique}.",
    "themes": ("{n} theme", "{n} themes"),
    "unique": ("{n} unique idea", "{n} unique ideas"),
    "waiting": (
        "{n} note posted since then is not in them yet.",
        "{n} notes posted since then are not in them yet.",
    ),
    "raised": (
        "{notes}, raised at {n} of {total} tables",
        "{notes}, raised at {n} of {total} tables",
    ),
    "one_table": " (one table only)",
    "written_in": "Written in: {steps}.",
    "keywords": "Keywords: {words}.",
    "split": "Split from an earlier theme by a facilitator.",
    "unique_heading": "Unique ideas ({n})",
    "hidden_heading": "Hidden by a facilitator",
    "supported_heading": "Most supported notes ({n})",
    "supported_top_heading": "Most supported notes (top {n})",
    "likes": ("{n} like", "{n} likes"),
    "in_theme": "theme: {label}",
    "questions_heading": "Questions",
    "open_so_far": "Still open: {answers} so far; the result is given when it closes.",
    "col_choice": "choice",
    "col_answers": "answers",
    "col_share": "share",
    "col_table": "table",
    "answers": ("{n} answer", "{n} answers"),
    "still_open": " (still open)",
    "by_table": "By table:",
    "by_table_heading": "By table",
}

_FR: dict[str, Phrase] = {
    "heading": f"{{title}}{NBSP}: thèmes",
    "made": "{notes} de {tables}, rapport établi le {at}.",
    "notes": ("{n} contribution", "{n} contributions"),
    "from_tables": ("{n} table", "{n} tables"),
    "no_themes": "Aucun thème n’a encore été dégagé pour cet événement.",
    "as_of": f"Thèmes de la version {{version}}{NBSP}: {{themes}}, {{unique}}.",
    "themes": ("{n} thème", "{n} thèmes"),
    "unique": ("{n} idée unique", "{n} idées uniques"),
    "waiting": (
        "{n} contribution publiée depuis n’y figure pas encore.",
        "{n} contributions publiées depuis n’y figurent pas encore.",
    ),
    "raised": (
        "{notes}, évoqué à {n} table sur {total}",
        "{notes}, évoqué à {n} tables sur {total}",
    ),
    "one_table": " (une seule table)",
    "written_in": f"Écrit pendant{NBSP}: {{steps}}.",
    "keywords": f"Mots-clés{NBSP}: {{words}}.",
    "split": "Séparé d’un thème précédent par l’animation.",
    "unique_heading": "Idées uniques ({n})",
    "hidden_heading": "Masqués par l’animation",
    "supported_heading": "Contributions les plus soutenues ({n})",
    "supported_top_heading": "Contributions les plus soutenues ({n} premières)",
    "likes": ("{n} j’aime", "{n} j’aime"),
    "in_theme": f"thème{NBSP}: {{label}}",
    "questions_heading": "Questions",
    "open_so_far": (
        f"Encore ouverte{NBSP}: {{answers}} pour l’instant{NBSP}; "
        "le résultat sera donné à sa clôture."
    ),
    "col_choice": "choix",
    "col_answers": "réponses",
    "col_share": "part",
    "col_table": "table",
    "answers": ("{n} réponse", "{n} réponses"),
    "still_open": " (encore ouverte)",
    "by_table": f"Par table{NBSP}:",
    "by_table_heading": "Par table",
}

_DE: dict[str, Phrase] = {
    "heading": "{title}: Themen",
    "made": "{notes} von {tables}, Bericht erstellt am {at}.",
    "notes": ("{n} Beitrag", "{n} Beiträge"),
    "from_tables": ("{n} Tisch", "{n} Tischen"),
    "no_themes": "Für diese Veranstaltung wurden noch keine Themen gebildet.",
    "as_of": "Themen der Version {version}: {themes}, {unique}.",
    "themes": ("{n} Thema", "{n} Themen"),
    "unique": ("{n} einzelne Idee", "{n} einzelne Ideen"),
    "waiting": (
        "{n} seither geschriebener Beitrag ist noch nicht darin enthalten.",
        "{n} seither geschriebene Beiträge sind noch nicht darin enthalten.",
    ),
    "raised": (
        "{notes}, an {n} von {total} Tischen genannt",
        "{notes}, an {n} von {total} Tischen genannt",
    ),
    "one_table": " (nur ein Tisch)",
    "written_in": "Geschrieben in: {steps}.",
    "keywords": "Stichwörter: {words}.",
    "split": "Von der Moderation aus einem früheren Thema abgetrennt.",
    "unique_heading": "Einzelne Ideen ({n})",
    "hidden_heading": "Von der Moderation ausgeblendet",
    "supported_heading": "Beiträge mit der meisten Unterstützung ({n})",
    "supported_top_heading": "Beiträge mit der meisten Unterstützung (die ersten {n})",
    "likes": ("{n} Like", "{n} Likes"),
    "in_theme": "Thema: {label}",
    "questions_heading": "Fragen",
    "open_so_far": "Noch offen: bisher {answers}; das Ergebnis folgt, wenn sie geschlossen wird.",
    "col_choice": "Auswahl",
    "col_answers": "Antworten",
    "col_share": "Anteil",
    "col_table": "Tisch",
    "answers": ("{n} Antwort", "{n} Antworten"),
    "still_open": " (noch offen)",
    "by_table": "Nach Tisch:",
    "by_table_heading": "Nach Tisch",
}

WORDS: dict[str, dict[str, Phrase]] = {"en": _EN, "fr": _FR, "de": _DE}
# How each language groups thousands and writes decimals.
_GROUP = {"en": ",", "fr": NNBSP, "de": "."}
_DECIMAL = {"en": ".", "fr": ",", "de": ","}
_PERCENT = {"en": "%", "fr": f"{NNBSP}%", "de": f"{NNBSP}%"}


@dataclass(frozen=True)
class Words:
    """The report's phrases in one language (anything unknown is English)."""

    language: str = DEFAULT_LANGUAGE

    def __post_init__(self) -> None:
        if self.language not in WORDS:
            object.__setattr__(self, "language", DEFAULT_LANGUAGE)

    def number(self, n: int) -> str:
        return f"{n:,}".replace(",", _GROUP[self.language])

    def percent(self, share: float) -> str:
        return f"{share:.1f}".replace(".", _DECIMAL[self.language]) + _PERCENT[self.language]

    def __call__(self, key: str, n: int | None = None, **params: object) -> str:
        """The phrase `key`, its plural form chosen by `n` (written as a number as `{n}`)."""
        phrase = WORDS[self.language][key]
        if isinstance(phrase, tuple):
            assert n is not None, key
            # French uses the singular for 0 and 1; English and German for 1 alone.
            one = n in (0, 1) if self.language == "fr" else n == 1
            phrase = phrase[0] if one else phrase[1]
        if n is not None:
            params = {"n": self.number(n), **params}
        return phrase.format(**params)
