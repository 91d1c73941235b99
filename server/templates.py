"""Ready agendas for the formats facilitators run: one TOML file per format in config/templates/.

A template is a title, a description, a suggested table layout and its steps. Loading one into
an event gives each step a fresh id. Parsing is pure; only `load_templates` reads files.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from .agenda import ASSIGNS, MAX_DURATION_SECONDS, MAX_STEPS, MODES, Assign, Mode, Step
from .event_messages import MAX_STEP_VOTES, clean_choices
from .languages import DEFAULT_LANGUAGE, LANGUAGES

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "config" / "templates"
# A step's words in the participants' other languages: `[steps.fr]` with `title` and `prompt`
# (and a question's `choices`).
TRANSLATED = tuple(code for code in LANGUAGES if code != DEFAULT_LANGUAGE)
STEP_KEYS = frozenset(
    {
        "title",
        "prompt",
        "mode",
        "minutes",
        "assign",
        "recall",
        "topics",
        "votes",
        "choices",
        *TRANSLATED,
    }
)
TRANSLATION_KEYS = frozenset({"title", "prompt", "choices"})

# language -> one step as it reads in that language (title, prompt, a question's choices)
Translations = dict[str, Step]


class TemplateError(ValueError):
    """A template file that does not describe an agenda; the message names the problem."""


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    title: str
    description: str
    suggested_tables: int
    suggested_capacity: int
    steps: tuple[Step, ...]  # ids are placeholders until `instantiate`
    # Per step, the step in each language the template has it in.
    translations: tuple[Translations, ...] = ()
    # language -> (title, description), from the template's own `[fr]`-style table
    words: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "suggested_tables": self.suggested_tables,
            "suggested_capacity": self.suggested_capacity,
            # The console shows the format's name in its own language.
            "words": {
                code: {"title": title, "description": description}
                for code, (title, description) in self.words.items()
            },
            "steps": [
                {
                    "title": s.title,
                    "mode": s.mode,
                    "duration": s.duration,
                    "votes": s.votes,
                    "choices": list(s.choices),
                }
                for s in self.steps
            ],
        }

    def instantiate(
        self, new_id: Callable[[], str], language: str = DEFAULT_LANGUAGE
    ) -> list[Step]:
        """The steps with fresh ids, titled and prompted in the participants' `language`
        where the template has it (its phones show them), in English otherwise."""
        out = []
        for i, step in enumerate(self.steps):
            if i < len(self.translations):
                step = self.translations[i].get(language, step)
            out.append(replace(step, id=new_id()))
        return out


def parse_template(name: str, doc: Mapping[str, Any]) -> Template:
    def fail(problem: str) -> TemplateError:
        return TemplateError(f"template {name}: {problem}")

    title = doc.get("title")
    if not isinstance(title, str) or not title.strip():
        raise fail("needs a title")
    raw_steps = doc.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise fail("needs at least one [[steps]]")
    if len(raw_steps) > MAX_STEPS:
        raise fail(f"has more than {MAX_STEPS} steps")
    steps = [_step(i, raw, fail) for i, raw in enumerate(raw_steps, start=1)]
    translations = tuple(
        _translations(i, raw, step, fail)
        for i, (raw, step) in enumerate(zip(raw_steps, steps, strict=True), start=1)
    )
    return Template(
        name=name,
        title=title.strip(),
        words=_words(doc, fail),
        description=str(doc.get("description", "")).strip(),
        suggested_tables=int(doc.get("suggested_tables", 4)),
        suggested_capacity=int(doc.get("suggested_capacity", 8)),
        steps=tuple(steps),
        translations=translations,
    )


def _words(
    doc: Mapping[str, Any], fail: Callable[[str], TemplateError]
) -> dict[str, tuple[str, str]]:
    """The format's own title and description in other languages: a top-level `[fr]` table."""
    out = {}
    for code in TRANSLATED:
        table = doc.get(code)
        if table is None:
            continue
        if not isinstance(table, dict) or set(table) - {"title", "description"}:
            raise fail(f"{code} must be a table with a title and a description")
        title, description = table.get("title"), table.get("description", "")
        if not isinstance(title, str) or not title.strip() or not isinstance(description, str):
            raise fail(f"{code} needs a title (and its description as text)")
        out[code] = (title.strip(), description.strip())
    return out


def _step(i: int, raw: object, fail: Callable[[str], TemplateError]) -> Step:
    if not isinstance(raw, dict):
        raise fail(f"step {i} is not a table")
    unknown = set(raw) - STEP_KEYS
    if unknown:
        raise fail(f"step {i} has unknown keys {sorted(unknown)}")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise fail(f"step {i} needs a title")
    mode = raw.get("mode", "breakouts")
    if mode not in MODES:
        raise fail(f"step {i}: mode must be one of {', '.join(MODES)}")
    assign = raw.get("assign", "keep")
    if assign not in ASSIGNS:
        raise fail(f"step {i}: assign must be one of {', '.join(ASSIGNS)}")
    minutes = raw.get("minutes", 0)
    if not isinstance(minutes, int | float) or not 0 <= minutes * 60 <= MAX_DURATION_SECONDS:
        raise fail(f"step {i}: minutes must be between 0 and {MAX_DURATION_SECONDS // 60}")
    votes = raw.get("votes", 0)
    if type(votes) is not int or not 0 <= votes <= MAX_STEP_VOTES:  # bool is an int too
        raise fail(f"step {i}: votes must be a whole number from 0 to {MAX_STEP_VOTES}")
    choices = _choices(f"step {i}", raw.get("choices", []), fail)
    return Step(
        id=f"step-{i}",
        title=title.strip(),
        prompt=str(raw.get("prompt", "")).strip(),
        mode=cast(Mode, mode),
        duration=round(minutes * 60),
        assign=cast(Assign, assign),
        recall=bool(raw.get("recall", True)),
        topics=bool(raw.get("topics", False)),
        votes=votes,
        choices=choices,
    )


def _choices(where: str, raw: object, fail: Callable[[str], TemplateError]) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise fail(f"{where}: choices must be a list of texts")
    try:
        return tuple(clean_choices(raw))
    except ValueError as exc:
        raise fail(f"{where}: {exc}") from None


def _translations(
    i: int, raw: Mapping[str, Any], step: Step, fail: Callable[[str], TemplateError]
) -> Translations:
    """A step's `[steps.fr]`-style tables: a title, a prompt if the step has one, and a
    question's choices, as many as the English ones since answers are counted by their place
    in the list, whatever the language they were read in."""
    out: Translations = {}
    for code in TRANSLATED:
        table = raw.get(code)
        if table is None:
            continue
        if not isinstance(table, dict):
            raise fail(f"step {i}: {code} must be a table with a title and a prompt")
        unknown = set(table) - TRANSLATION_KEYS
        if unknown:
            raise fail(f"step {i}: {code} has unknown keys {sorted(unknown)}")
        title, prompt = table.get("title"), table.get("prompt", "")
        if not isinstance(title, str) or not title.strip() or not isinstance(prompt, str):
            raise fail(f"step {i}: {code} needs a title (and its prompt as text)")
        if bool(prompt.strip()) != bool(step.prompt):
            raise fail(f"step {i}: {code} must have a prompt exactly when the step has one")
        choices = step.choices
        if "choices" in table:
            choices = _choices(f"step {i}: {code}", table["choices"], fail)
            if len(choices) != len(step.choices):
                raise fail(f"step {i}: {code} must have as many choices as the step has")
        out[code] = replace(step, title=title.strip(), prompt=prompt.strip(), choices=choices)
    return out


def load_templates(directory: Path = TEMPLATES_DIR) -> dict[str, Template]:
    """Every template in `directory`, by file name without `.toml`; a broken file fails loudly."""
    templates: dict[str, Template] = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise TemplateError(f"{path} is not valid TOML: {exc}") from None
        templates[path.stem] = parse_template(path.stem, doc)
    return templates
