"""A text export's encoding: given (``read.encoding``), told by a byte-order mark, UTF-16 told by its
zero bytes, UTF-8, or cp1252 (French Excel); a UTF-8 copy is written when the file is not UTF-8.
A file mixing UTF-8 and cp1252 lines is refused, saying which setting reads it."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from helpers.data.contract import DataContractError
from helpers.data.quality import TableReport

HEAD_BYTES = 4096  # bytes looked at to tell UTF-16 without a byte-order mark


def utf8_copy(path: Path, options: dict, report: TableReport, tmp: Path) -> Path:
    """The file itself if it is UTF-8 without BOM, else a UTF-8 copy in ``tmp`` (decoded from the
    given encoding, the one its first bytes tell, or cp1252 when the bytes are not UTF-8)."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    given = options.get("encoding")
    if given:
        encoding = codecs.lookup(given).name
    elif head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
        report.assumptions.append("UTF-8 with a byte-order mark (BOM)")
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
        report.assumptions.append("UTF-16 (byte-order mark)")
    elif b"\x00" in head:
        encoding = _utf16_without_bom(path, head)
        report.assumptions.append(f"{encoding.upper()} without a byte-order mark (told by its zero bytes)")
    elif _is_utf8(path):
        return path
    else:
        _refuse_mixed_encodings(path, report.table)
        encoding = "cp1252"
        report.assumptions.append(
            "not UTF-8: read as Windows-1252 (cp1252), the encoding of French Excel exports; "
            "set read.encoding to override"
        )
    if encoding == "utf-8" and not head.startswith(codecs.BOM_UTF8) and _is_utf8(path):
        return path
    return _transcode(path, encoding, tmp)


def _transcode(path: Path, encoding: str, tmp: Path) -> Path:
    """A UTF-8 copy of ``path`` decoded from ``encoding``; refuses bytes that do not decode, naming the line."""
    target = tmp / f"{path.stem}.utf8.csv"
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    line = 1
    with open(path, "rb") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        for block in iter(lambda: src.read(1 << 22), b""):
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as exc:
                bad_line = line + block[: exc.start].count(b"\n")
                raise DataContractError(
                    "encoding",
                    f"{path.name}, line {bad_line}: bytes that are not {encoding} "
                    f"({block[exc.start : exc.start + 4]!r}); set read.encoding to "
                    "the file's encoding (utf-8, cp1252, latin-1...).",
                ) from exc
            line += block.count(b"\n")
            dst.write(text)
        dst.write(decoder.decode(b"", final=True))
    return target


def _utf16_without_bom(path: Path, head: bytes) -> str:
    """'utf-16-le' or 'utf-16-be' when zero bytes fill every other byte of the file's start (ASCII
    text in UTF-16), else refused: zero bytes in a text export mean it is not text."""
    even, odd = head[0::2], head[1::2]
    share = {side: half.count(0) / max(len(half), 1) for side, half in (("even", even), ("odd", odd))}
    if share["odd"] > 0.3 and share["even"] < 0.05:
        return "utf-16-le"
    if share["even"] > 0.3 and share["odd"] < 0.05:
        return "utf-16-be"
    raise DataContractError(
        "encoding",
        f"{path.name} holds zero bytes but is not UTF-16 text: it is probably not a text export (a binary "
        "file named .csv?). Export the table again as CSV, or set read.encoding if you know its encoding.",
    )


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _refuse_mixed_encodings(path: Path, table: str) -> None:
    """A file that is not UTF-8 but holds bytes that read as UTF-8 letters is either cp1252 throughout
    (cp1252 'Â£' is the UTF-8 bytes of '£') or mixes two encodings: refused, naming both readings."""
    utf8_line = bad_line = None
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8")
                if utf8_line is None and (found := re.search(r"[^\x00-\x7f]+", text)):
                    utf8_line, word = number, found.group()
            except UnicodeDecodeError:
                bad_line = bad_line or number
            if utf8_line and bad_line:
                as_cp1252 = word.encode("utf-8").decode("cp1252", errors="replace")
                raise DataContractError(
                    "encoding",
                    f"{path.name}: line {utf8_line} is UTF-8, line {bad_line} is not (probably cp1252). If the "
                    f"file is cp1252 throughout, line {utf8_line} holds {as_cp1252!r} (in UTF-8 it would be "
                    f"{word!r}): set read.encoding: cp1252 in the mapping (tables.{table}.read). If it really "
                    "mixes two encodings, re-export it in one (UTF-8).",
                )
