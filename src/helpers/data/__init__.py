"""Where data comes in and is checked: the contract, the consent rules, the loader and its quality report."""

from helpers.data.consents import ResolvedConsents, resolve_consents, own_monthly_maximum
from helpers.data.contract import DataContractError, Column, Table, pandera_schema
from helpers.data.io import (
    TableMapping, Mapping, read_mapping, TableReport, DataQualityReport, Dataset, connect, load_tables, RawTable,
    Rule)
