"""The client report's words in each language: gettext catalogues, one ``locales/<language>.po`` file
each, read by Babel at run time (no compiled .mo to keep in step). English is the source language:
a sentence's msgid is its English text. Names shown to a client (segments, strategies, rules,
channels, offers) and notebook titles are catalogued in every language, English included, under a
context: ``name`` for a name as the code writes it, ``notebook`` for a notebook's stem.

A third language is one more ``.po`` file and one more line in ``helpers.run.formats.LOCALES``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from helpers.errors import RunInputError
from helpers.run.formats import locale

LOCALES_DIR = Path(__file__).parent / "locales"
SOURCE_LANGUAGE = "en"
NAME, NOTEBOOK = "name", "notebook"  # the contexts of names and notebook titles


class MissingTranslation(RunInputError):
    """A sentence or a name the client report would show that the language's catalogue lacks."""


@functools.cache
def catalogue(language: str) -> Catalog:
    """The messages of ``language``, read from ``locales/<language>.po``."""
    locale(language)  # an unknown language is refused with the list of known ones
    path = LOCALES_DIR / f"{language}.po"
    with path.open("rb") as po:
        return read_po(po, locale=language)


def _lookup(text: str, language: str, context: str | None) -> str:
    message = catalogue(language).get(text, context=context)
    if message is None or not message.string or message.fuzzy:
        where = f" (context {context!r})" if context else ""
        raise MissingTranslation(
            f"no {language} translation of {text!r}{where} in {relative(LOCALES_DIR / f'{language}.po')}: add "
            f"msgctxt/msgid/msgstr for it there, or set report: {{language: {SOURCE_LANGUAGE}}}."
        )
    return str(message.string)


def relative(path: Path) -> str:
    """``path`` from the package's ``helpers/`` folder, as a message shows it."""
    return str(path.relative_to(Path(__file__).parents[2]))


def gettext(text: str, language: str) -> str:
    """A sentence or a heading in ``language`` (English: as written)."""
    return text if language == SOURCE_LANGUAGE else _lookup(text, language, None)


def authored(text: str, language: str) -> str:
    """A text a playbook's author wrote (its title, its question): the catalogue's translation for the
    playbooks the project ships, else the text as its author wrote it, in the language they chose."""
    message = catalogue(language).get(text) if language != SOURCE_LANGUAGE else None
    return str(message.string) if message is not None and message.string else text


def name(value: str, language: str) -> str:
    """A name as the code writes it (``late_for_them``, ``champions``), as a client reads it."""
    return _lookup(str(value), language, NAME)


def notebook_title(stem: str, language: str) -> str:
    """The business question a notebook answers, as a section title (``30_next_best_offer``)."""
    return _lookup(stem, language, NOTEBOOK)
