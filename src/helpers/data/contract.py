"""The data contract: one set of tables, whether the world made them or an analyst brought them.

Declared once, as data: each table's columns, their kind (how a raw text cell is parsed), which are
required, the key that must be unique, and the references between tables. The loader
(``helpers.data.dataset``) reads files onto it; ``pandera_schema`` turns it into the pandera schema
that gates every loaded table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from helpers.errors import DataInputError

if TYPE_CHECKING:
    import pandera.ibis

CHANNELS = ("email", "sms", "postal", "phone", "push")
JOURNEY_STAGES = ("need", "information", "comparison", "purchase")
EARLIEST_DATE = dt.date(1990, 1, 1)
PERSONAL_COLUMNS = ("first_name", "last_name", "email", "phone")  # direct identifiers
TRUE_WORDS = ("true", "t", "1", "yes", "y", "oui", "o", "vrai")  # a boolean cell's yes, in any case
FALSE_WORDS = ("false", "f", "0", "no", "n", "non", "faux")
# ISO 4217 codes of the currencies in circulation (SIX list one, 2025), without funds, metals and test codes.
CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF
    CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD
    HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD
    MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
    TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL""".split()
)


class DataContractError(DataInputError):
    """The data cannot be loaded onto the contract. ``category`` names the kind of fault (see
    CATEGORIES); the message names the file, the column, up to five offending rows and the fix."""

    def __init__(self, category: str, message: str):
        if category not in CATEGORIES:
            raise ValueError(f"unknown error category {category!r}")
        super().__init__(f"[{category}] {message}")
        self.category = category


CATEGORIES = (
    "bad_mapping",  # the mapping names an unknown table, column, option or file
    "missing_table",  # a required table has no file
    "ambiguous_file",  # two files for one table
    "unreadable",  # the file cannot be parsed as CSV / Parquet / Excel at all
    "empty_file",  # zero bytes
    "no_rows",  # a header and nothing else
    "encoding",  # bytes that do not decode, or two encodings in one file
    "wrong_separator",  # the header reads as one column
    "missing_column",  # a required column is absent
    "missing_value",  # a required cell is empty
    "not_a_number",  # an amount or number that does not parse
    "not_a_date",  # a date that does not parse in the file's format
    "not_a_boolean",  # a yes/no cell that is neither
    "unknown_value",  # a label outside its allowed values (channel, status, group...)
    "date_out_of_range",  # before 1990 or after the latest allowed date (the future)
    "duplicate_id",  # a key shared by rows that disagree
    "unknown_reference",  # an id that the referenced table does not hold
    "bad_id",  # an id whose digits Excel lost (1.23456E+11)
    "end_before_start",  # a subscription that ends before it starts
)
ROW_CATEGORIES = CATEGORIES[CATEGORIES.index("missing_value") :]  # faults of rows, excluded up to a share


@dataclass(frozen=True)
class Rule:
    """A row-level rule: rows where the SQL ``condition`` holds break it and are excluded, counted
    under their first broken rule. ``raw``: the SQL of the cell shown in messages; ``chosen``: an
    exclusion the mapping asked for (never refused, whatever its share)."""

    category: str
    column: str
    reason: str
    condition: str
    raw: str
    fix: str
    chosen: bool = False

    @property
    def option(self) -> str:
        """Its key in options.max_excluded_share: 'category.column' ('category' for a composite key)."""
        return self.category if "," in self.column else f"{self.category}.{self.column}"


@dataclass(frozen=True)
class Column:
    """One contract column. ``kind``: id (whole numbers or text, one type per id name across
    tables), date, amount (in the data's currency, may be negative), number, integer, boolean, label (one of
    ``values``) or text."""

    name: str
    kind: str
    required: bool = False
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """One contract table: columns, the key that must be unique, references (column -> (table,
    column)) checked when the referenced table is present, and rules between a row's cells."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    references: dict[str, tuple[str, str]] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()  # rules between a row's cells, on the parsed columns

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column | None:
        """The contract column ``name``; None for a column of the analyst's own."""
        return next((c for c in self.columns if c.name == name), None)

    def contract_column(self, name: str) -> Column:
        """The contract column ``name``, which must be one."""
        column = self.column(name)
        if column is None:
            raise KeyError(f"{self.name} has no contract column {name!r}")
        return column


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "products",
            (Column("category", "text", True), Column("mean_price", "number"), Column("margin_rate", "number")),
            key=("category",),
        ),
        Table(
            "campaigns",
            (
                Column("campaign_id", "id", True),
                Column("channel", "label", True, CHANNELS),
                Column("offer", "text", True),
                Column("start_date", "date", True),
                Column("cost_per_contact", "number"),
                Column("response_window_days", "integer"),
                Column("name", "text"),
            ),
            key=("campaign_id",),
        ),
        Table(
            "customers",
            (
                Column("customer_id", "id", True),
                Column("first_name", "text"),
                Column("last_name", "text"),
                Column("email", "text"),
                Column("phone", "text"),
                Column("postcode", "text"),
                Column("city", "text"),
                Column("departement", "text"),
                Column("region", "text"),
                Column("birth_year", "integer"),
                Column("signup_date", "date"),
                Column("acquisition_source", "text"),
                Column("is_prospect", "boolean"),
                Column("journey_stage", "label", values=JOURNEY_STAGES),
                Column("has_app", "boolean"),
            ),
            key=("customer_id",),
        ),
        Table(
            "transactions",
            (
                Column("order_id", "id"),
                Column("customer_id", "id", True),
                Column("order_date", "date", True),
                Column("amount", "amount", True),  # or derived in the mapping, e.g. quantity * unit_price
                Column("product_id", "id"),
                Column("description", "text"),
                Column("quantity", "number"),
                Column("unit_price", "amount"),
                Column("is_return", "boolean"),  # a cancellation or return: nets revenue, is no purchase
                Column("category", "text"),
                Column("sales_channel", "text"),
                Column("margin", "amount"),
                Column("campaign_id", "id"),
            ),
            key=("order_id",),
            references={"customer_id": ("customers", "customer_id"), "campaign_id": ("campaigns", "campaign_id")},
        ),
        Table(
            "consents",
            (
                Column("customer_id", "id", True),
                Column("channel", "label", True, CHANNELS),
                Column("status", "label", True, ("opt_in", "opt_out", "unknown")),
                Column("bloctel", "boolean"),
                Column("preferred_channel", "label", values=CHANNELS),
                Column("max_contacts_per_month", "integer"),
                Column("updated_at", "date"),
            ),
            key=("customer_id", "channel"),
            references={"customer_id": ("customers", "customer_id")},
        ),
        Table(
            "contacts",
            (
                Column("campaign_id", "id", True),
                Column("customer_id", "id", True),
                Column("group", "label", True, ("treatment", "control")),
                Column("sent_at", "date"),
                Column("opened", "boolean"),
                Column("clicked", "boolean"),
                Column("responded", "boolean"),
                Column("revenue", "amount"),
                Column("unsubscribed", "boolean"),
            ),
            key=("campaign_id", "customer_id"),
            references={"customer_id": ("customers", "customer_id"), "campaign_id": ("campaigns", "campaign_id")},
        ),
        Table(
            "subscriptions",  # a contract business: one row per subscription, renewed until it ends
            (
                Column("customer_id", "id", True),
                Column("start_date", "date", True),
                Column("end_date", "date"),  # the date it ended (the renewal not taken); empty while active
                Column("plan", "text"),
                Column("monthly_price", "amount"),
            ),
            key=("customer_id", "start_date"),
            references={"customer_id": ("customers", "customer_id")},
            rules=(
                Rule(
                    "end_before_start",
                    "start_date, end_date",
                    "end_date before start_date",
                    '"end_date" < "start_date"',
                    """CAST("start_date" AS VARCHAR) || ' to ' || CAST("end_date" AS VARCHAR)""",
                    "a subscription ends on or after its start: check the two columns are not swapped and "
                    "the date format (day and month inverted?)",
                ),
            ),
        ),
    )
}
REQUIRED_TABLES = ("transactions",)
# Referenced tables load first, so references can be checked against what was kept.
LOAD_ORDER = ("products", "campaigns", "customers", "transactions", "consents", "contacts", "subscriptions")
# The tables the quality report says are absent: not subscriptions, a contract business's table that no
# retailer's export holds (a notebook that needs it refuses data without it, naming it).
REPORTED_ABSENT = tuple(t for t in LOAD_ORDER if t != "subscriptions")


def row_rules(table: Table, columns: list[str]) -> list[Rule]:
    """The table's rules between cells whose columns the file holds."""
    return [rule for rule in table.rules if set(rule.column.split(", ")) <= set(columns)]


def pandera_schema(table: Table, dtypes: dict[str, str], latest: dt.date) -> pandera.ibis.DataFrameSchema:
    """The pandera (ibis backend) schema a loaded table must satisfy: types, required columns not
    null, dates between 1990 and ``latest``, labels within their values. ``dtypes``: column ->
    ibis type name of the loaded table (id columns may be int64 or string)."""
    import pandera.ibis as pa

    checks = {"date": [pa.Check.ge(EARLIEST_DATE), pa.Check.le(latest)]}
    columns = {}
    for name, dtype in dtypes.items():
        spec = table.column(name)
        if spec is None:
            continue  # extra columns are the analyst's own
        column_checks = list(checks.get(spec.kind, []))
        if spec.kind == "label":
            column_checks.append(pa.Check.isin(list(spec.values)))
        columns[name] = pa.Column(dtype, checks=column_checks, nullable=not spec.required)
    return pa.DataFrameSchema(columns, name=table.name)
