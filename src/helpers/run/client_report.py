"""The report a consultant hands to a client: a cover, contents, the decisions first, one section per
business question from the notebooks' headlines, the lists a CRM can load, and the appendices. No
code, no model internals, no checks against a synthetic world's truth, no classroom exercises; every
word from the language's catalogue, every number from the notebooks' metrics.json, as the body's.
"""

from __future__ import annotations

import html

from helpers.run import appendices, catalogue, client_figures, formats
from helpers.run.decisions import EVIDENCE, per_year, recorded_decisions, replaced, role_text
from helpers.run.headlines import compose, render

TRAINING_ONLY = ("world", "truth", "played")  # headline ids that read a synthetic world's truth
PAPER = {"a4": "A4", "letter": "letter"}
MESSAGES = (  # every heading and label of the client report, in English (the catalogue's msgids)
    "Contents",
    "What we recommend",
    "What we do not recommend",
    "Decision",
    "Gain",
    "Per year",
    "Cost",
    "How sure we are",
    "over {weeks} weeks",
    "between {low} and {high}",
    "Files for your CRM",
    "File",
    "Rows",
    "Reproducibility appendix",
    "Parameters",
    "Data",
    "Versions",
    "notebook",
    "parameter",
    "value",
    "file",
    "sha256",
    "package",
    "version",
    "page",
    "no recommendation: the data of this run support none",
    "Each file lists one row per customer, ids as your data gives them.",
)
PRODUCED_BY = (
    "Produced by {command} from the playbook {playbook} at commit {git}; rerun it and check every file's sha256 with "
    "playbook reproduce manifest.json, the manifest delivered beside this report."
)


def _t(text: str, language: str, **values: str) -> str:
    """A message of MESSAGES in ``language``, HTML-escaped, with ``values`` (already HTML) filled in."""
    return html.escape(catalogue.gettext(text, language)).format(**values)


def client_headlines(metrics: dict, currency: str, language: str, left_out: tuple[str, ...] = ()) -> list[str]:
    """The sentences of a notebook's headlines a client reads: all but the truth checks and the
    headline ids ``left_out`` (decisions another notebook's replace)."""
    return [
        s
        for item in metrics.get("headlines", [])
        if item["id"] not in (*TRAINING_ONLY, *left_out)
        for s in [compose(item, metrics, currency, language, client=True)]
        if s
    ]


def _decision_row(found: dict, metrics: dict, currency: str, language: str) -> str:
    def role(name: str) -> str:
        return html.escape(role_text(found, name, currency, language) or "")

    gain, yearly, times = role("earns"), per_year(found), found["item"]["decision"].get("times_a_year")
    if gain and found["values"].get("weeks"):
        weeks = formats.number(found["values"]["weeks"], language, 1)
        gain += f"<br><small>{_t('over {weeks} weeks', language, weeks=weeks)}</small>"
    if yearly is not None:
        yearly_text = html.escape(render(yearly, found["item"]["roles"]["earns"]["format"], currency, language))
        repeated = _t("if repeated {times} times a year", language, times=formats.integer(times, language))
        yearly_text += f"<br><small>{repeated}</small>"
    sure = html.escape(catalogue.gettext(EVIDENCE[found["item"]["decision"]["evidence"]], language))
    if role("low") and role("high"):
        sure = _t("between {low} and {high}", language, low=role("low"), high=role("high")) + f"<br>{sure}"
    sentence = compose(found["item"], metrics, currency, language, client=True) or ""
    cells = (html.escape(sentence), gain or "–", yearly_text if yearly is not None else "–", role("cost") or "–", sure)
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def decision_page(metrics: dict[str, dict], currency: str, language: str) -> str:
    """The first page: each recommended decision with its gain, yearly gain, cost and how sure we are;
    then what is not recommended and why."""
    found = recorded_decisions(metrics)
    head = "".join(f"<th>{_t(h, language)}</th>" for h in ("Decision", "Gain", "Per year", "Cost", "How sure we are"))
    parts = [f'<section id="decisions" class="decisions"><h1>{_t("What we recommend", language)}</h1>']
    for recommended, title in ((True, None), (False, "What we do not recommend")):
        rows = [
            _decision_row(d, metrics[d["notebook"]], currency, language)
            for d in found
            if d["item"]["decision"]["recommended"] is recommended
        ]
        if title and rows:
            parts.append(f"<h2>{_t(title, language)}</h2>")
        if rows:
            parts.append(
                f'<table class="decisions"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            )
        elif recommended:
            parts.append(f"<p>{_t('no recommendation: the data of this run support none', language)}</p>")
    return "".join(parts) + "</section>"


def findings(metrics: dict[str, dict], currency: str, language: str) -> list[tuple[str, str, str]]:
    """One section per business question: (anchor, title, HTML) for each notebook with a finding: its
    headlines, then its figures."""
    gone = [r.split(":", 1) for r in replaced(metrics)]
    sections = []
    for stem, m in metrics.items():
        sentences = client_headlines(m, currency, language, tuple(i for s, i in gone if s == stem))
        if sentences:
            body = "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in sentences) + "</ul>"
            body += "".join(f"<figure>{svg}</figure>" for svg in client_figures.figures(stem, m, currency, language))
            sections.append((f"q-{stem}", catalogue.notebook_title(stem, language), body))
    return sections


def crm_files(exports: dict[str, dict[str, str]], language: str) -> str:
    """The lists written for a CRM, each linked as CSV and xlsx, with its row count."""
    rows = "".join(
        f"<tr><td>{html.escape(catalogue.gettext(name.replace('_', ' '), language))}</td>"
        f'<td><a href="{html.escape(files["csv"])}">CSV</a> · <a href="{html.escape(files["xlsx"])}">xlsx</a></td>'
        f"<td>{formats.integer(int(files['rows']), language)}</td></tr>"
        for name, files in exports.items()
    )
    head = "".join(f"<th>{_t(h, language)}</th>" for h in ("List", "File", "Rows"))
    intro = _t("Each file lists one row per customer, ids as your data gives them.", language)
    return f"<p>{intro}</p><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _table(rows: list[tuple], header: tuple[str, ...], language: str) -> str:
    head = "".join(f"<th>{_t(h, language)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table class="appendix"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def reproducibility(appendix: dict, language: str) -> str:
    """How the run was made and how to rerun it: command, commit, parameters, data hashes, versions."""
    code = {k: f"<code>{html.escape(str(appendix[k]))}</code>" for k in ("command", "playbook", "git")}
    parameters = [
        (catalogue.notebook_title(stem, language), name, value)
        for stem, values in appendix["parameters"].items()
        for name, value in values.items()
    ]
    return (
        f"<p>{_t(PRODUCED_BY, language, **code)}</p>"
        f"<h2>{_t('Parameters', language)}</h2>{_table(parameters, ('notebook', 'parameter', 'value'), language)}"
        f"<h2>{_t('Data', language)}</h2>{_table(sorted(appendix['data'].items()), ('file', 'sha256'), language)}"
        f"<h2>{_t('Versions', language)}</h2>"
        f"{_table(sorted(appendix['packages'].items()), ('package', 'version'), language)}"
    )


STYLE = """
@page { size: %(paper)s; margin: 20mm 18mm 22mm;
        @bottom-left { content: "%(footer)s"; font: 8pt "DejaVu Sans", Arial, sans-serif; color: #666; }
        @bottom-right { content: "%(page)s " counter(page) " / " counter(pages);
                        font: 8pt "DejaVu Sans", Arial, sans-serif; color: #666; } }
@page :first { @bottom-left { content: none; } @bottom-right { content: none; } }
body { font: 10.5pt/1.45 "DejaVu Sans", Arial, sans-serif; color: #222; margin: 0 auto; max-width: 48rem; }
h1 { font-size: 17pt; color: #1f4e79; border-bottom: 2px solid #1f4e79; padding-bottom: 3pt; }
h2 { font-size: 13pt; color: #1f4e79; }
.cover { height: 230mm; display: flex; flex-direction: column; justify-content: center; }
.cover h1 { font-size: 28pt; border: 0; } .cover .question { font-size: 14pt; font-style: italic; }
.cover .meta { color: #555; font-size: 12pt; }
section { break-before: page; } .contents ol { font-size: 12pt; line-height: 2; }
table { border-collapse: collapse; width: 100%%; table-layout: fixed; margin: 6pt 0; font-size: 9pt; }
th { background: #eef3f8; text-align: left; } th, td { border-bottom: 1px solid #ccc; padding: 3pt 5pt;
     vertical-align: top; overflow-wrap: anywhere; }
table.decisions :is(td, th):is(:nth-child(2), :nth-child(3), :nth-child(4)) { text-align: right; }
table.decisions th:first-child { width: 40%%; }
figure { margin: 8pt 0; break-inside: avoid; } figure svg { max-width: 100%%; height: auto; }
ul.sources li { overflow-wrap: anywhere; } h3 { font-size: 11pt; color: #1f4e79; }
li { margin: 4pt 0; } a { color: #1f4e79; } code { font-size: 8.5pt; overflow-wrap: anywhere; }
"""


def render_client(report: dict, question: str, metrics: dict[str, dict], appendix: dict, exports: dict) -> str:
    """The client report's HTML. ``report``: title, client, author, date, currency, language, paper;
    ``metrics``: notebook stem -> its metrics.json; ``exports``: what ``exports.write_exports`` wrote."""
    language, currency = report["language"], report["currency"]
    esc = html.escape
    title, question = catalogue.authored(report["title"], language), catalogue.authored(question, language)
    sections = [("decisions", catalogue.gettext("What we recommend", language), "")]
    sections += findings(metrics, currency, language)
    if exports:
        sections.append(("crm-files", catalogue.gettext("Files for your CRM", language), crm_files(exports, language)))
    sections.append(
        ("methods", catalogue.gettext("Methods appendix", language), appendices.methods(metrics, currency, language))
    )
    sections.append(
        ("data", catalogue.gettext("Data appendix", language), appendices.data(appendix["quality"], language))
    )
    sections.append(
        (
            "reproducibility",
            catalogue.gettext("Reproducibility appendix", language),
            reproducibility(appendix, language),
        )
    )
    contents = "".join(f'<li><a href="#{a}">{esc(t)}</a></li>' for a, t, _ in sections)
    body = "".join(f'<section id="{a}"><h1>{esc(t)}</h1>{h}</section>' for a, t, h in sections[1:])
    when = formats.date(report["date"], language) if report.get("date") else ""
    meta = " · ".join(esc(v) for v in (report.get("client", ""), report.get("author", ""), when) if v)
    footer = " · ".join(v for v in (report.get("client", ""), title) if v).replace('"', "'")
    style = STYLE % {"paper": PAPER[report["paper"]], "footer": footer, "page": catalogue.gettext("page", language)}
    return f"""<!DOCTYPE html>
<html lang="{esc(language)}"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>{style}</style></head><body>
<div class="cover"><h1>{esc(title)}</h1><p class="question">{esc(question)}</p>
<p class="meta">{meta}</p></div>
<section id="contents" class="contents"><h1>{_t("Contents", language)}</h1><ol>{contents}</ol></section>
{decision_page(metrics, currency, language)}
{body}
</body></html>
"""
