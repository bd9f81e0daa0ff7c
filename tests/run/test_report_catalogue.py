"""Every word a client reads has a translation in every report language; a missing one is named."""

import ast
import string

import nbformat
import pytest
import yaml

from helpers.data.contract import LOAD_ORDER, REPORTED_ABSENT
from helpers.describe.segmentation import SEGMENTS
from helpers.paths import NOTEBOOKS_DIR, REPO_ROOT
from helpers.run import appendices, catalogue, client_figures, playbook
from helpers.run.client_report import MESSAGES, PRODUCED_BY
from helpers.run.decisions import EVIDENCE
from helpers.run.formats import LOCALES

TRANSLATED = [lang for lang in LOCALES if lang != catalogue.SOURCE_LANGUAGE]
STEMS = sorted(p.stem for p in NOTEBOOKS_DIR.glob("*.ipynb"))


def headline_templates() -> dict[str, str]:
    """Template -> notebook, for every headline and decision a notebook's code writes."""
    found = {}
    for stem in STEMS:
        for cell in nbformat.read(NOTEBOOKS_DIR / f"{stem}.ipynb", as_version=4).cells:
            if cell.cell_type != "code" or "headline(" not in cell.source and "decision(" not in cell.source:
                continue
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("headline", "decision"):
                    found[ast.literal_eval(node.args[1])] = stem
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_notebooks_write_headlines_the_test_can_read():
    templates = headline_templates()
    assert len(templates) >= 18 and {"40_plan_channel_mix", "50_design_and_read_test"} <= set(templates.values())


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_headline_has_a_translation_with_the_same_placeholders(language):
    for template, stem in headline_templates().items():
        translated = catalogue.gettext(template, language)
        assert placeholders(translated) == placeholders(template), f"{stem}: {template!r} -> {translated!r}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_heading_label_and_kind_of_evidence_is_translated(language):
    for text in (*MESSAGES, PRODUCED_BY, *EVIDENCE.values(), "none", *client_figures.MESSAGES):
        assert placeholders(catalogue.gettext(text, language)) == placeholders(text)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_sentence_of_the_methods_and_data_appendices_is_translated(language):
    methods = appendices.METHODS.values()
    texts = [*appendices.MESSAGES, appendices.REASONS, appendices.SYNTHETIC, *appendices.MISSING_TABLE.values()]
    texts += [m.model for m in methods] + [check["text"] for m in methods for check in m.checks]
    for text in texts:
        assert placeholders(catalogue.gettext(text, language)) == placeholders(text), text
    assert set(appendices.MISSING_TABLE) == set(REPORTED_ABSENT) - {"transactions"}  # the one table every run has


@pytest.mark.parametrize("language", list(LOCALES))
def test_every_segment_table_and_shipped_rule_has_a_name_in_every_language(language):
    rules = yaml.safe_load((REPO_ROOT / "synthetic_data/scenarios/triggers_retail_fr.yml").read_text())["rules"]
    for name in (*SEGMENTS, *LOAD_ORDER, *(rule["name"] for rule in rules)):
        assert "_" not in catalogue.name(name, language)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_shipped_playbooks_title_and_question_is_translated(language):
    for name in playbook.available():
        recipe = playbook.load(name)
        assert catalogue.gettext(recipe.title, language) and catalogue.gettext(recipe.question, language)


@pytest.mark.parametrize("language", list(LOCALES))
def test_every_notebook_has_a_title_in_every_language(language):
    titles = [catalogue.notebook_title(stem, language) for stem in STEMS]
    assert len(set(titles)) == len(STEMS) and not any("_" in t for t in titles)


def test_a_missing_translation_fails_naming_the_text_and_the_file():
    with pytest.raises(catalogue.MissingTranslation, match=r"no fr translation of 'A sentence nobody wrote'.*fr\.po"):
        catalogue.gettext("A sentence nobody wrote", "fr")
    with pytest.raises(catalogue.MissingTranslation, match="context 'notebook'"):
        catalogue.notebook_title("99_unknown", "en")


def test_english_is_the_source_language_and_needs_no_catalogue_for_sentences():
    assert catalogue.gettext("A sentence nobody wrote", "en") == "A sentence nobody wrote"
