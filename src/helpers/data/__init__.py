"""Where data comes in and is checked: the contract, the mapping, the files, parsing, the rules, the
quality report, the consent rules and the loader (``load_tables`` -> ``Dataset``)."""

from helpers.data.consents import ResolvedConsents, resolve_consents, own_monthly_maximum
from helpers.data.contract import DataContractError, Column, Table, pandera_schema
from helpers.data.mapping import TableMapping, Mapping, read_mapping, repo_path
from helpers.data.files import RawTable, permission_denied_is_unreadable, read_raw_tables
from helpers.data.parsing import id_column_types, parse_table
from helpers.data.rules import Rule, keep_rows, pandera_gate
from helpers.data.quality import TableReport, DataQualityReport
from helpers.data.dataset import Dataset, load_tables
