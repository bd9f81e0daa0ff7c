"""The report of a playbook run, for one of two audiences: ``client`` (``helpers.run.client_report``:
decisions first, in the client's language) or ``training``, the lesson printout: one HTML page
without code (title page, executive summary from the notebooks' metrics.json, their narrative and
figures, a reproducibility appendix). Either is printed to PDF by headless Chromium."""

from __future__ import annotations

import base64
import html
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat

from helpers.run.client_report import render_client
from helpers.run.headlines import compose

OMITTED_HEADINGS = ("## Parameters", "## Versions")  # the appendix holds both
METRICS_TAG = "metrics"  # the cell that ends with write_metrics
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-pdf-header-footer",
)


def executive_summary(metrics: dict[str, dict], currency: str = "EUR") -> dict[str, list[str]]:
    """Per notebook, the sentences of the headlines its metrics.json holds, composed from its figures
    (a headline whose figures are missing on own data is left out, never invented)."""
    return {
        stem: [s for s in (compose(item, m, currency) for item in m.get("headlines", [])) if s]
        for stem, m in metrics.items()
    }


def _title(nb) -> str:
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    return first.splitlines()[0].lstrip("# ").strip() if first else ""


def _without_last_line(text: str) -> str:
    return "".join(text.splitlines(keepends=True)[:-1])


def _outputs(cell) -> list[str]:
    """A code cell's outputs as HTML; in the cell tagged "metrics", the last line printed (the path
    write_metrics prints) is left out."""
    parts = []
    printed = [
        i for i, out in enumerate(cell.get("outputs", [])) if out.output_type == "stream" and out.name == "stdout"
    ]
    for i, out in enumerate(cell.get("outputs", [])):
        if out.output_type == "stream" and out.name == "stdout":
            last = METRICS_TAG in cell.metadata.get("tags", []) and i == printed[-1]
            text = _without_last_line(out.text) if last else out.text
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


def _anchored(section: str, stem: str) -> str:
    """A notebook's heading anchors and links to them prefixed with its stem, unique in the report."""
    section = re.sub(r'id="([^"]+)"', lambda m: f'id="{stem}-{m[1]}"', section)
    return re.sub(r'href="#([^"]+)"', lambda m: f'href="#{stem}-{m[1]}"', section)


def notebook_section(nb: nbformat.NotebookNode) -> str:
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
body { font: 15px/1.5 "DejaVu Sans", Arial, sans-serif; color: #222; max-width: 62rem; margin: 0 auto;
       padding: 1.5rem; }
h1 { font-size: 1.6rem; border-bottom: 2px solid #2b5d8a; padding-bottom: .3rem; }
h2 { font-size: 1.25rem; color: #2b5d8a; } h3 { font-size: 1.05rem; }
.title-page { padding: 4rem 0 2rem; }
@media print { .title-page { min-height: 85vh; display: flex; flex-direction: column; justify-content: center; } }
.title-page h1 { font-size: 2.3rem; border: 0; } .question { font-size: 1.2rem; font-style: italic; }
.meta { color: #555; } section { break-before: page; }
figure { margin: 1rem 0; break-inside: avoid; } img { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; max-width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .2rem .5rem; text-align: right; overflow-wrap: anywhere; }
th { vertical-align: bottom; }
pre.output { background: #f6f6f6; padding: .5rem; white-space: pre-wrap; font-size: .85rem; }
code { background: #f2f2f2; padding: 0 .2rem; } .anchor-link { display: none; }
.appendix td, .appendix th { text-align: left; }
"""


def _table(rows: list[tuple], header: tuple) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table class="appendix"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_html(
    title_page: dict,
    question: str,
    summary: dict[str, list[str]],
    notebooks: dict[str, nbformat.NotebookNode],
    appendix: dict,
) -> str:
    """The whole report. ``title_page``: title, client, author, date; ``notebooks``: stem -> executed
    notebook; ``appendix``: command, playbook, parameters (stem -> dict), data (path -> sha256),
    git, packages (name -> version)."""
    esc = html.escape
    titles = {stem: _title(nb) for stem, nb in notebooks.items()}
    meta = " · ".join(esc(str(title_page[k])) for k in ("client", "author", "date") if title_page.get(k))
    summary_html = "".join(
        f"<h3>{esc(titles[stem])}</h3><ul>" + "".join(f"<li>{esc(s)}</li>" for s in sentences) + "</ul>"
        for stem, sentences in summary.items()
        if sentences
    )
    sections = "".join(
        f'<section id="{esc(stem)}">{_anchored(notebook_section(nb), esc(stem))}</section>'
        for stem, nb in notebooks.items()
    )
    parameters = [
        (stem, name, value) for stem, values in appendix["parameters"].items() for name, value in values.items()
    ]
    language = esc(title_page.get("language", "en"))
    return f"""<!DOCTYPE html>
<html lang="{language}"><head><meta charset="utf-8"><title>{esc(title_page["title"])}</title>
<style>{STYLE}</style></head><body>
<div class="title-page"><h1>{esc(title_page["title"])}</h1><p class="question">{esc(question)}</p>
<p class="meta">{meta}</p></div>
<section id="summary"><h1>Executive summary</h1>{summary_html}</section>
{sections}
<section id="appendix"><h1>Reproducibility appendix</h1>
<p>Produced by <code>{esc(appendix["command"])}</code> from the playbook <code>{esc(appendix["playbook"])}</code>
at commit <code>{esc(appendix["git"])}</code>. To rerun it and check every output's sha256:
<code>playbook reproduce manifest.json</code> with the manifest delivered beside this report.</p>
<h2>Parameters</h2>{_table(parameters, ("notebook", "parameter", "value"))}
<h2>Data</h2>{_table(sorted(appendix["data"].items()), ("file", "sha256"))}
<h2>Versions</h2>{_table(sorted(appendix["packages"].items()), ("package", "version"))}
</section></body></html>
"""


def render_report(
    report: dict,
    question: str,
    metrics: dict[str, dict],
    notebooks: dict[str, nbformat.NotebookNode],
    appendix: dict,
    exports: dict[str, dict[str, str]],
) -> str:
    """The report for ``report["audience"]``: the client's (from the metrics) or the training printout."""
    if report.get("audience", "client") == "client":
        return render_client(report, question, metrics, appendix, exports)
    summary = executive_summary(metrics, report["currency"])
    return render_html(report, question, summary, notebooks, appendix)


def chromium() -> str | None:
    """Path of a headless-capable Chromium (Debian's ``chromium``), or None."""
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def print_pdf(html_path: Path, pdf_path: Path, timeout_s: float = 120) -> None:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium (A4, no header or footer)."""
    browser = chromium()
    if browser is None:
        raise RuntimeError(
            "report.pdf needs headless Chromium and none was found: install Debian's "
            "`chromium` (make browser), or pass --no-pdf."
        )
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                browser,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--print-to-pdf={pdf_path}",
                html_path.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    if done.returncode != 0 or not pdf_path.exists() or pdf_path.stat().st_size == 0:
        raise RuntimeError(f"Chromium could not print {html_path.name} (exit {done.returncode}): {done.stderr[-1500:]}")


def from_run(run_dir: Path, out: Path, pdf: bool = False, **options: str) -> Path:
    """The report of a finished run (its manifest.json, metrics and executed notebooks) written again
    into the folder ``out`` (report.html, its CRM files, report.pdf if ``pdf``) with report ``options``
    changed (``language="fr"``, ``audience="training"``, ``paper="letter"``): two audiences or two
    languages from one run, without running a notebook again and without touching the run folder."""
    import json

    from helpers.paths import REPO_ROOT
    from helpers.run.appendices import checked_quality
    from helpers.run.checked_data import shown_path
    from helpers.run.exports import write_exports
    from helpers.run.notebook import KEY_PACKAGES
    from helpers.run.playbook import FILE_PARAMETERS, Playbook, Step
    from helpers.run.provenance import read_manifest
    from helpers.run.runs import CHECKED_DATA

    run_dir, out = Path(run_dir), Path(out)
    manifest = read_manifest(run_dir / "manifest.json")
    spec = manifest["playbook"]
    steps = tuple(Step(s["notebook"], s["parameters"]) for s in spec["steps"])
    playbook = Playbook(
        spec["name"], REPO_ROOT / spec["file"], spec["title"], spec["question"], spec["shared"], steps, {}
    )
    report = {**spec["report"], **options}
    metrics = {s.notebook: json.loads((run_dir / s.notebook / "metrics.json").read_text()) for s in steps}
    notebooks = {s.notebook: nbformat.read(run_dir / f"{s.notebook}.ipynb", as_version=4) for s in steps}
    appendix = {
        "command": manifest["command"],
        "playbook": spec["file"],
        "git": manifest["git"],
        "data": manifest["data"],
        "packages": {p: manifest["packages"].get(p, "?") for p in KEY_PACKAGES},
        "parameters": {
            s.notebook: {
                k: shown_path(v) if k in ("data_dir", *FILE_PARAMETERS) and v else v
                for k, v in playbook.parameters_for(s).items()
            }
            for s in steps
        },
        "quality": checked_quality(run_dir / CHECKED_DATA),
    }
    out.mkdir(parents=True, exist_ok=True)
    exports = write_exports(run_dir, report["language"], out)
    (out / "report.html").write_text(
        render_report(report, spec["question"], metrics, notebooks, appendix, exports), encoding="utf-8"
    )
    if pdf:
        print_pdf(out / "report.html", out / "report.pdf")
    return out / "report.html"
