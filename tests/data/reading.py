"""Load a fixture folder with some read options, or catch its refusal (test_files, test_parsing)."""

import datetime as dt

import pytest

from helpers.data.contract import DataContractError
from helpers.data.dataset import load_tables

LATEST = dt.date(2026, 1, 1)


def load(folder, read=None, **options):
    mapping = {"tables": {"transactions": {"read": read}}} if read else {}
    return load_tables(folder, mapping={**mapping, "options": options} if options else mapping, latest_date=LATEST)


def refused(folder, read=None, **options) -> DataContractError:
    with pytest.raises(DataContractError) as info:
        load(folder, read, **options)
    return info.value
