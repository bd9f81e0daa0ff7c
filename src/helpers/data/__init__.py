"""Where data comes in and is checked: the contract, the mapping, the files, parsing, invoice lines,
duplicates, the rules, the quality report, the consent rules and the loader (``load_tables`` ->
``Dataset``).

Each name is imported from its module on first use (``helpers._lazy``)."""

from typing import TYPE_CHECKING

from helpers._lazy import lazy_exports

if TYPE_CHECKING:
    from helpers.data.consents import (
        ResolvedConsents,
        needs_settling,
        own_monthly_maximum,
        resolve_consents,
        settle_history,
    )
    from helpers.data.contract import Column, DataContractError, Rule, Table, pandera_schema
    from helpers.data.dataset import Dataset, load_tables
    from helpers.data.dates import typed_date
    from helpers.data.duplicates import key_rules
    from helpers.data.encodings import utf8_copy
    from helpers.data.excel import HeadRows, read_excel
    from helpers.data.files import RawTable, locate_files, permission_denied_is_unreadable, read_raw_tables
    from helpers.data.lines import (
        LineRules,
        count_transactions,
        count_zero_prices,
        derive_columns,
        merge_order_lines,
        non_product_rules,
        read_line_rules,
        return_flag,
    )
    from helpers.data.mapping import Mapping, TableMapping, read_mapping, repo_path
    from helpers.data.parsing import id_column_types, parse_table
    from helpers.data.quality import DataQualityReport, TableReport
    from helpers.data.rules import keep_rows, pandera_gate

__all__ = [
    "Column",
    "DataContractError",
    "DataQualityReport",
    "Dataset",
    "HeadRows",
    "LineRules",
    "Mapping",
    "RawTable",
    "ResolvedConsents",
    "Rule",
    "Table",
    "TableMapping",
    "TableReport",
    "count_transactions",
    "count_zero_prices",
    "derive_columns",
    "id_column_types",
    "keep_rows",
    "key_rules",
    "load_tables",
    "locate_files",
    "merge_order_lines",
    "needs_settling",
    "non_product_rules",
    "own_monthly_maximum",
    "pandera_gate",
    "pandera_schema",
    "parse_table",
    "permission_denied_is_unreadable",
    "read_excel",
    "read_line_rules",
    "read_mapping",
    "read_raw_tables",
    "repo_path",
    "resolve_consents",
    "return_flag",
    "settle_history",
    "typed_date",
    "utf8_copy",
]

__getattr__ = lazy_exports(__name__)
