"""What the report tests read from a run folder, and from its report in a browser."""

import nbformat

from helpers.run.report import CHROMIUM_FLAGS, chromium

A4_CONTENT_PX = round((210 - 2 * 18) / 25.4 * 96)  # A4's width less the report's margins, in CSS pixels
SMALLEST_FIGURE_TEXT = """Math.min(...[...document.querySelectorAll('figure svg')].flatMap(svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;  // page px per SVG unit (pt)
  return [...svg.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize) * scale * 72 / 96);
}))"""


def code_lines(run_dir) -> list[str]:
    """The code lines (20 characters or more) of a run's executed notebooks: none may show in its report."""
    return [
        line.strip()
        for nb in run_dir.glob("*.ipynb")
        for cell in nbformat.read(nb, as_version=4).cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if len(line.strip()) >= 20
    ]


def read_in_browser(report_html, shot) -> dict:
    """The client report ``report_html`` printed in headless Chromium at the A4 page's width: its visible
    text (the reproducibility appendix left out), how many tables are wider than the page, its element
    ids, its figures' smallest text in points; the decision page saved as the screenshot ``shot``."""
    from playwright.sync_api import sync_playwright

    shot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as engine:
        browser = engine.chromium.launch(executable_path=chromium(), args=list(CHROMIUM_FLAGS[1:-1]))
        page = browser.new_page(viewport={"width": A4_CONTENT_PX, "height": 1100})
        page.emulate_media(media="print")
        page.goto(report_html.as_uri(), wait_until="load")
        read = {
            "text": page.evaluate(
                "[...document.body.children].filter(e => e.id !== 'reproducibility').map(e => e.innerText).join('\\n')"
            ),
            "too_wide": page.evaluate(
                "[...document.querySelectorAll('table, figure')].filter(t => t.scrollWidth > t.clientWidth + 1"
                " || t.getBoundingClientRect().right > window.innerWidth + 1).length"
            ),
            "anchors": page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)"),
            "figures": page.evaluate("document.querySelectorAll('figure svg').length"),
            "smallest_figure_pt": page.evaluate(SMALLEST_FIGURE_TEXT),
        }
        page.locator("#decisions").screenshot(path=str(shot))
        browser.close()
    return read
