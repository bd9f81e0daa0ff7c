"""The client report's methods and data appendices.

Methods: per notebook the run holds, the model behind its figures in one sentence, the checks of
that model on data it did not see (figures from the notebook's metrics.json, as the body's), and
the sources of its assumptions, each written author, title, year, link. Data: what came in (rows
read, kept and excluded by table, from the run's data quality report), why rows were excluded,
and the analyses the data could not support, each missing table listed once.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import NamedTuple

from helpers.run import catalogue, formats
from helpers.run.checked_data import CHECKED, is_checked
from helpers.run.headlines import compose, headline


class Source(NamedTuple):
    """A published source: author, title, year, link."""

    author: str
    title: str
    year: int
    link: str


class Method(NamedTuple):
    """A notebook's model (an English sentence, the catalogue's msgid), its checks (headlines on the
    notebook's metrics) and the sources of its assumptions."""

    model: str
    checks: tuple[dict, ...]
    sources: tuple[Source, ...]


FADER_2005 = Source(
    "Fader, P. S., Hardie, B. G. S. & Lee, K. L.",
    "“Counting Your Customers” the Easy Way: An Alternative to the Pareto/NBD Model",
    2005,
    "https://doi.org/10.1287/mksc.1040.0098",
)
HOLM_1979 = Source(
    "Holm, S.", "A Simple Sequentially Rejective Multiple Test Procedure", 1979, "https://www.jstor.org/stable/4615733"
)
HILLSTROM_2008 = Source(
    "Hillstrom, K.",
    "The MineThatData E-Mail Analytics And Data Mining Challenge",
    2008,
    "https://blog.minethatdata.com/2008/03/minethatdata-e-mail-analytics-and-data.html",
)
CALLS_DECREE_2022 = Source(
    "Légifrance",
    "Décret n° 2022-1313 du 13 octobre 2022 relatif à l'encadrement des jours et horaires des appels téléphoniques "
    "à des fins de prospection commerciale non sollicitée",
    2022,
    "https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000046421823",
)
METHODS = {
    "20_segment_customers": Method(
        "Customers scored from 1 to 5 on how recently, how often and how much they bought (RFM), and named by "
        "segment rules; behavioural groups found by k-means clustering.",
        (
            headline(
                "clusters",
                "{k} behavioural groups, silhouette {silhouette} (from -1 to 1: the higher, the better separated).",
                k=("clusters/k", "integer"),
                silhouette=("clusters/silhouette", "number.2"),
            ),
        ),
        (
            Source(
                "Rousseeuw, P. J.",
                "Silhouettes: a graphical aid to the interpretation and validation of cluster analysis",
                1987,
                "https://doi.org/10.1016/0377-0427(87)90125-7",
            ),
        ),
    ),
    "21_customer_lifetime_value": Method(
        "Purchases per customer forecast by a BG/NBD-type model and the amount per purchase by the Gamma-Gamma "
        "model, fitted on a calibration period and checked on a later period held out.",
        (
            headline(
                "holdout",
                "Checked on {weeks} weeks held out, the purchase model is off by {error}.",
                weeks=("holdout_weeks", "integer"),
                error=("holdout_error", "+percent.1"),
            ),
        ),
        (
            FADER_2005,
            Source(
                "Fader, P. S., Hardie, B. G. S. & Lee, K. L.",
                "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis",
                2005,
                "https://doi.org/10.1509/jmkr.2005.42.4.415",
            ),
        ),
    ),
    "30_next_best_offer": Method(
        "The extra margin each offer brings each customer, learned by uplift models (T-learner, X-learner, "
        "transformed outcome) from past campaigns with a randomised control group, each chosen on customers held out.",
        (),
        (
            Source(
                "Künzel, S. R., Sekhon, J. S., Bickel, P. J. & Yu, B.",
                "Metalearners for estimating heterogeneous treatment effects using machine learning",
                2019,
                "https://doi.org/10.1073/pnas.1804597116",
            ),
            HILLSTROM_2008,
        ),
    ),
    "40_plan_channel_mix": Method(
        "The contact plan chosen by linear programming (the HiGHS solver) within the budget, each channel's "
        "capacity, the law on consent by channel and each customer's contact pressure.",
        (
            headline(
                "gap",
                "The plan is within {gap} of the best plan these limits allow.",
                gap=("plan/gap", "percent.1"),
            ),
        ),
        (
            Source(
                "Huangfu, Q. & Hall, J. A. J.",
                "Parallelizing the dual revised simplex method",
                2018,
                "https://doi.org/10.1007/s12532-017-0130-5",
            ),
            CALLS_DECREE_2022,
        ),
    ),
    "45_automate_triggered_scenarios": Method(
        "Each triggered scenario read against a random holdout of the customers it fires for; the next category "
        "each customer buys from learned on their past purchases.",
        (),
        (CALLS_DECREE_2022,),
    ),
    "50_design_and_read_test": Method(
        "Each campaign read against its randomised control group, with bootstrap intervals and Holm's correction "
        "for reading many campaigns at once; test sizes for the chosen lift, with the variance reduction of CUPED.",
        (),
        (
            HOLM_1979,
            Source(
                "Deng, A., Xu, Y., Kohavi, R. & Walker, T.",
                "Improving the Sensitivity of Online Controlled Experiments by Utilizing Pre-Experiment Data",
                2013,
                "https://doi.org/10.1145/2433396.2433413",
            ),
        ),
    ),
}
MISSING_TABLE = {  # what the analyses cannot do without each table (English msgids)
    "products": "No products table: no analysis by product category and no next-category suggestion.",
    "campaigns": "No campaigns table: the cost and the offer of past campaigns are unknown.",
    "customers": "No customers table: no prospects and no customer attributes.",
    "consents": "No consents table: nobody has a recorded opt-in, so e-mail, SMS and phone are closed to every "
    "customer and only letters may be sent.",
    "contacts": "No contacts table: past campaigns cannot be read out and no uplift model can be learned.",
}
MESSAGES = (
    "Methods appendix",
    "Data appendix",
    "Sources",
    "Checks on data the model did not see",
    "What came in",
    "What was excluded, and why",
    "What the data could not support",
    "table",
    "rows read",
    "rows kept",
    "rows excluded",
    "reason",
    "No row was excluded.",
)
REASONS = "Reasons as the data check writes them, each excluded row counted once under the first rule it broke."
SYNTHETIC = "The data are a synthetic customer world generated from the run's seed (see the reproducibility appendix)."


def _t(text: str, language: str) -> str:
    return html.escape(catalogue.gettext(text, language))


def _cite(source: Source) -> str:
    link = html.escape(source.link)
    return (
        f'{html.escape(source.author)} ({source.year}). <i>{html.escape(source.title)}</i>. <a href="{link}">{link}</a>'
    )


def methods(metrics: dict[str, dict], currency: str, language: str) -> str:
    """The methods appendix of the notebooks in ``metrics``: model, checks, sources."""
    parts = []
    for stem in (s for s in metrics if s in METHODS):
        method = METHODS[stem]
        checks = [s for s in (compose(c, metrics[stem], currency, language, client=True) for c in method.checks) if s]
        parts.append(
            f"<h2>{html.escape(catalogue.notebook_title(stem, language))}</h2><p>{_t(method.model, language)}</p>"
        )
        if checks:
            items = "".join(f"<li>{html.escape(c)}</li>" for c in checks)
            parts.append(f"<h3>{_t('Checks on data the model did not see', language)}</h3><ul>{items}</ul>")
        items = "".join(f"<li>{_cite(s)}</li>" for s in method.sources)
        parts.append(f'<h3>{_t("Sources", language)}</h3><ul class="sources">{items}</ul>')
    return "".join(parts)


def _rows(header: tuple[str, ...], rows: list[tuple], language: str) -> str:
    head = "".join(f"<th>{_t(h, language)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def data(quality: dict | None, language: str) -> str:
    """The data appendix from a run's data quality report (``checked.json``; None: a synthetic world)."""
    if quality is None:
        return f"<p>{_t(SYNTHETIC, language)}</p>"
    tables = quality["tables"].values()
    came_in = [
        (catalogue.name(t["table"], language), t["file"], *(formats.integer(n, language) for n in counts))
        for t in tables
        for counts in [(t["rows_read"], t["rows_kept"], t["rows_read"] - t["rows_kept"])]
    ]
    excluded = [
        (catalogue.name(t["table"], language), reason.replace("_", " "), formats.integer(n, language))
        for t in tables
        for reason, n in t["excluded"].items()
    ]
    parts = [
        f"<h2>{_t('What came in', language)}</h2>",
        _rows(("table", "file", "rows read", "rows kept", "rows excluded"), came_in, language),
        f"<h2>{_t('What was excluded, and why', language)}</h2>",
    ]
    if excluded:
        parts += [f"<p>{_t(REASONS, language)}</p>", _rows(("table", "reason", "rows"), excluded, language)]
    else:
        parts.append(f"<p>{_t('No row was excluded.', language)}</p>")
    missing = [MISSING_TABLE[t] for t in quality["missing_tables"]]
    if missing:
        items = "".join(f"<li>{_t(m, language)}</li>" for m in missing)
        parts.append(f"<h2>{_t('What the data could not support', language)}</h2><ul>{items}</ul>")
    return "".join(parts)


def checked_quality(folder: Path) -> dict | None:
    """The data quality report of a run's checked copy of the analyst's data in ``folder`` (``<run>/data``),
    or None when the run read a synthetic world."""
    return json.loads((folder / CHECKED).read_text(encoding="utf-8")) if is_checked(folder) else None
