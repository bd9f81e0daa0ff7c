"""The client report of a playbook run: one HTML page without code (title page, executive summary
from the notebooks' metrics.json, their narrative and figures, a reproducibility appendix), printed
to PDF by headless Chromium."""

from __future__ import annotations

import base64
import html
import shutil
import subprocess
import tempfile
from pathlib import Path

OMITTED_HEADINGS = ("## Parameters", "## Versions")      # the appendix holds both
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update", "--no-pdf-header-footer")


def _get(metrics: dict, *keys):
    for key in keys:
        if not isinstance(metrics, dict) or metrics.get(key) is None:
            return None
        metrics = metrics[key]
    return metrics


def _sentences(stem: str, m: dict, money) -> list[str | None]:
    """Headline sentences for one notebook's metrics; None where a figure is missing."""
    g = lambda *k: _get(m, *k)  # noqa: E731
    f = lambda fmt, *values: None if any(v is None for v in values) else fmt.format(*values)  # noqa: E731
    if stem.startswith("00_"):
        return [f("The synthetic world: {:,} customers, {:,} prospects and {:,} orders; the truth behind "
                  "them is known.", g("customers"), g("prospects"), g("orders"))]
    if stem.startswith("10_"):
        return [f("The top 20% of customers bring {:.0%} of revenue.", g("pareto_top20_revenue_share")),
                f("{:.0%} of customers bought more than once; the median gap between orders is {:.0f} days.",
                  g("repeat_buyer_share"), g("median_interpurchase_days")),
                f("{:.0%} of customers bought in the last twelve months; the average order is {}.",
                  g("active_12m_share"), money(g("average_order_value_eur"), 2))]
    if stem.startswith("20_"):
        champions = g("segments", "champions") or {}
        return [f("Champions are {:.0%} of customers and bring {:.0%} of revenue.",
                  champions.get("customer_share"), champions.get("revenue_share")),
                f("{:,} loyal customers or champions slipped to a weaker segment between {} and {}.",
                  g("movement", "loyal_or_champions_slipping"), g("movement", "from"), g("movement", "to"))]
    if stem.startswith("21_"):
        return [f("Customers are worth {} over the value horizon; the top 20% of them hold {:.0%} of it.",
                  money(g("clv", "total_eur")), g("clv", "top20_share")),
                f("Checked on a year held out, the purchase model is off by {:+.1%}.", g("holdout_error")),
                f("Against the truth: {} predicted, {} true.", money(g("clv", "total_eur")),
                  money(g("truth", "true_value_52w_eur")))]
    if stem.startswith("30_"):
        policies = g("policy_value_eur") or {}
        return [f("The next best offer plan: {:,} contacts for {} of expected incremental margin.",
                  g("plan", "contacts"), money(g("plan", "expected_incremental_margin_eur"))),
                f("Played forward against the truth: next best offer {}, response model {}, random targeting {}.",
                  money(policies.get("next best offer"), sign=True), money(policies.get("response model"), sign=True),
                  money(policies.get("random targeting"), sign=True))]
    if stem.startswith("35_"):
        played = g("strategies") or {}
        assumed, oracle = played.get("optimised on the assumption", {}), played.get("optimised on the true lifts", {})
        return [f("{:,} of {:,} prospects get a nurturing sequence for {}: {:.1f} extra first purchases expected, "
                  "each new customer worth {}.", g("plan", "prospects"), g("prospects"), money(g("plan", "cost_eur")),
                  g("plan", "expected_extra_customers"), money(g("new_customer_value_eur"))),
                f("Played against the truth: the plan creates {} (expected {}); the same budget on the true lifts "
                  "would create {}.", money(assumed.get("value_created_eur"), sign=True),
                  money(assumed.get("expected_value_eur"), sign=True), money(oracle.get("expected_value_eur"), sign=True))]
    if stem.startswith("40_"):
        strategies = g("strategies") or {}
        optimised, mass = strategies.get("optimised plan", {}), strategies.get("mass send on every consented channel", {})
        return [f("The contact plan: {:,} contacts costing {} for {} of expected incremental margin ({}).",
                  g("plan", "contacts"), money(g("plan", "cost_eur")),
                  money(g("plan", "expected_incremental_margin_eur")), g("plan", "method")),
                f("Played forward: optimised plan {} against {} for a mass send, which pushed {:,} customers "
                  "past their tolerance.", money(optimised.get("incremental_margin_eur"), sign=True),
                  money(mass.get("incremental_margin_eur"), sign=True), mass.get("customers_over_tolerance"))]
    if stem.startswith("45_"):
        hits = g("next_category") or {}
        scenarios = g("scenarios") or {}
        paying = [name for name, row in scenarios.items() if (row.get("true_incremental_margin_eur") or 0) > 0]
        return [f("Suggesting each customer's next category hits {:.0%} of actual next purchases at 3 suggestions, "
                  "against {:.0%} for the three most popular categories.", hits.get("hit_rate_model"),
                  hits.get("hit_rate_most_popular")),
                f("Played over six months against the truth, {} of {} scenarios earn more margin than they cost ({}); "
                  "the recommended set ({}) adds {}.", len(paying), len(scenarios), ", ".join(paying) or "none",
                  ", ".join(g("recommended", "rules") or []) or "none",
                  money(g("recommended", "true_incremental_margin_eur"), sign=True)) if scenarios else None]
    if stem.startswith("50_"):
        history = g("history") or {}
        significant = sum(1 for h in history.values() if (h.get("p_adjusted") or 1) < 0.05)
        return [f("A test needs {:,} customers in control to detect the chosen response lift.",
                  g("design", "control_for_rate")),
                f("{} of the {} past campaigns read out show a lift that holds after Holm's correction (5%).",
                  significant, len(history)) if history else None]
    return []


def executive_summary(metrics: dict[str, dict], currency: str = "EUR") -> dict[str, list[str]]:
    """Per notebook, the headline sentences its metrics.json supports (figures missing on own data
    are left out, never invented)."""
    symbol = CURRENCY_SYMBOLS.get(currency, currency)

    def money(value, decimals: int = 0, sign: bool = False):
        if value is None:
            return None
        return f"{value:{'+' if sign else ''},.{decimals}f} {symbol}".replace(",", "\u202f")

    return {stem: [s for s in _sentences(stem, m, money) if s] for stem, m in metrics.items()}


def _title(nb) -> str:
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    return first.splitlines()[0].lstrip("# ").strip() if first else ""


def _outputs(cell) -> list[str]:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream" and out.name == "stdout":
            text = "".join(line for line in out.text.splitlines(keepends=True)
                           if not line.startswith("Key figures written to"))
            if text.strip():
                parts.append(f'<pre class="output">{html.escape(text)}</pre>')
        elif out.output_type in ("display_data", "execute_result"):
            data = out.get("data", {})
            if "image/png" in data:
                png = data["image/png"].replace("\n", "")
                base64.b64decode(png, validate=True)
                parts.append(f'<figure><img alt="figure" src="data:image/png;base64,{png}"></figure>')
            elif "text/html" in data:
                parts.append(f'<div class="table">{data["text/html"]}</div>')
            elif "text/plain" in data:
                parts.append(f'<pre class="output">{html.escape(data["text/plain"])}</pre>')
    return parts


def notebook_section(nb) -> str:
    """A notebook as report prose: markdown and outputs, no code, no parameters or versions cells."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    parts = []
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "parameters" in tags or "injected-parameters" in tags:
            continue
        if cell.cell_type == "markdown":
            if cell.source.strip() not in OMITTED_HEADINGS:
                parts.append(markdown2html_mistune(cell.source))
        elif cell.cell_type == "code" and cell.source.strip() != "versions()":
            parts.extend(_outputs(cell))
    return "\n".join(parts)


STYLE = """
body { font: 15px/1.5 "DejaVu Sans", Arial, sans-serif; color: #222; max-width: 62rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; border-bottom: 2px solid #2b5d8a; padding-bottom: .3rem; }
h2 { font-size: 1.25rem; color: #2b5d8a; } h3 { font-size: 1.05rem; }
.title-page { padding: 4rem 0 2rem; }
@media print { .title-page { min-height: 85vh; display: flex; flex-direction: column; justify-content: center; } }
.title-page h1 { font-size: 2.3rem; border: 0; } .question { font-size: 1.2rem; font-style: italic; }
.meta { color: #555; } section { break-before: page; }
figure { margin: 1rem 0; break-inside: avoid; } img { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: .2rem .5rem; text-align: right; }
pre.output { background: #f6f6f6; padding: .5rem; white-space: pre-wrap; font-size: .85rem; }
code { background: #f2f2f2; padding: 0 .2rem; } .anchor-link { display: none; } .appendix td, .appendix th { text-align: left; }
"""


def _table(rows: list[tuple], header: tuple) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table class="appendix"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_html(title_page: dict, question: str, summary: dict[str, list[str]], notebooks: dict[str, object],
                appendix: dict) -> str:
    """The whole report. ``title_page``: title, client, author, date; ``notebooks``: stem -> executed
    notebook; ``appendix``: command, playbook, parameters (stem -> dict), data (path -> sha256),
    git, packages (name -> version)."""
    esc = html.escape
    titles = {stem: _title(nb) for stem, nb in notebooks.items()}
    meta = " · ".join(esc(str(title_page[k])) for k in ("client", "author", "date") if title_page.get(k))
    summary_html = "".join(
        f"<h3>{esc(titles[stem])}</h3><ul>" + "".join(f"<li>{esc(s)}</li>" for s in sentences) + "</ul>"
        for stem, sentences in summary.items() if sentences)
    sections = "".join(f'<section id="{esc(stem)}">{notebook_section(nb)}</section>' for stem, nb in notebooks.items())
    parameters = [(stem, name, value) for stem, values in appendix["parameters"].items()
                  for name, value in values.items()]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title_page['title'])}</title>
<style>{STYLE}</style></head><body>
<div class="title-page"><h1>{esc(title_page['title'])}</h1><p class="question">{esc(question)}</p>
<p class="meta">{meta}</p></div>
<section id="summary"><h1>Executive summary</h1>{summary_html}</section>
{sections}
<section id="appendix"><h1>Reproducibility appendix</h1>
<p>Produced by <code>{esc(appendix['command'])}</code> from the playbook <code>{esc(appendix['playbook'])}</code>
at commit <code>{esc(appendix['git'])}</code>. To rerun it and check every output's sha256:
<code>playbook reproduce manifest.json</code> with the manifest delivered beside this report.</p>
<h2>Parameters</h2>{_table(parameters, ("notebook", "parameter", "value"))}
<h2>Data</h2>{_table(sorted(appendix['data'].items()), ("file", "sha256"))}
<h2>Versions</h2>{_table(sorted(appendix['packages'].items()), ("package", "version"))}
</section></body></html>
"""


def chromium() -> str | None:
    """Path of a headless-capable Chromium (Debian's ``chromium``), or None."""
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def print_pdf(html_path: Path, pdf_path: Path, timeout_s: float = 120) -> None:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium (A4, no header or footer)."""
    browser = chromium()
    if browser is None:
        raise RuntimeError("report.pdf needs headless Chromium and none was found: install Debian's "
                           "`chromium` (make browser), or pass --no-pdf.")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                               f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()],
                              capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0 or not pdf_path.exists() or pdf_path.stat().st_size == 0:
        raise RuntimeError(f"Chromium could not print {html_path.name} (exit {done.returncode}): "
                           f"{done.stderr[-1500:]}")
