"""Notebook 50 as committed (the default world): the past campaigns that hold after Holm's
correction, counted and listed alike, so the report's summary and body cannot disagree."""

import re

import nbformat

from helpers.paths import NOTEBOOKS_DIR


def test_the_body_lists_exactly_the_campaigns_that_hold():
    cells = nbformat.read(NOTEBOOKS_DIR / "50_design_and_read_test.ipynb", as_version=4).cells
    printed = ["".join(o.get("text", "") for o in c.outputs) for c in cells if c.cell_type == "code"]
    body = next(text for text in printed if "past campaigns show a response lift" in text)
    count = re.search(r"(\d+) of (\d+) past campaigns show a response lift that cannot be put down to chance", body)
    assert count, "notebook 50 no longer prints its Holm count"
    listed = re.findall(r"^- (\S+) (.*)$", body, re.M)
    assert len(listed) == int(count[1]) > 0
    assert all(verdict.startswith(("raised", "lowered")) for _, verdict in listed), listed
    summary = re.search(r"(\d+) of (\d+) past campaigns had a lift beyond chance", "".join(printed))
    assert summary and summary.groups() == count.groups()
