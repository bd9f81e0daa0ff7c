"""Where data comes in and is checked: the contract, the mapping, the files, parsing, the rules, the
quality report, the consent rules and the loader (``load_tables`` -> ``Dataset``)."""

from helpers.data.consents import ResolvedConsents, own_monthly_maximum, resolve_consents
from helpers.data.contract import Column, DataContractError, Table, pandera_schema
from helpers.data.dataset import Dataset, load_tables
from helpers.data.dates import typed_date
from helpers.data.encodings import utf8_copy
from helpers.data.excel import HeadRows, read_excel
from helpers.data.files import RawTable, permission_denied_is_unreadable, read_raw_tables
from helpers.data.mapping import Mapping, TableMapping, read_mapping, repo_path
from helpers.data.parsing import id_column_types, parse_table
from helpers.data.quality import DataQualityReport, TableReport
from helpers.data.rules import Rule, keep_rows, pandera_gate

__all__ = [
    "Column",
    "DataContractError",
    "DataQualityReport",
    "Dataset",
    "HeadRows",
    "Mapping",
    "RawTable",
    "ResolvedConsents",
    "Rule",
    "Table",
    "TableMapping",
    "TableReport",
    "id_column_types",
    "keep_rows",
    "load_tables",
    "own_monthly_maximum",
    "pandera_gate",
    "pandera_schema",
    "parse_table",
    "permission_denied_is_unreadable",
    "read_excel",
    "read_mapping",
    "read_raw_tables",
    "repo_path",
    "resolve_consents",
    "typed_date",
    "utf8_copy",
]
