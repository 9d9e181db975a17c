"""A small, fast writer of Excel workbooks (Office Open XML, ECMA-376) for tables.

Only what exports need: one sheet per table, a header row that stays visible when scrolling
(frozen pane), numbers as numbers, text as inline strings, booleans, and missing values as
empty cells (never 0). Each sheet's XML is built column by column with plain string
formatting and streamed into the zip file, so that a run's tables of a few hundred thousand
cells are written in well under a second (see ``benchmarks/bench_cli.py``).
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MAX_CELL_CHARS", "MAX_ROWS", "XlsxError", "sheet_names", "write_xlsx"]

#: Excel's limits: rows per sheet and characters per cell.
MAX_ROWS = 1_048_576
MAX_CELL_CHARS = 32_767
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
# XML 1.0 forbids most control characters; OOXML writes them as _xHHHH_ (and a literal
# "_xHHHH_" in the text is protected by escaping its underscore).
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")


class XlsxError(ValueError):
    """A table cannot be written as an Excel sheet (too many rows, a too long cell)."""


def _text(s: str) -> str:
    if _XML_BAD.search(s):
        s = _XML_BAD.sub(lambda m: "_x005F_" if m.group() == "_" else f"_x{ord(m.group()):04X}_", s)
    return escape(s)


def _col_letters(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        s = chr(65 + rem) + s
    return s


def sheet_names(names: Iterable[str]) -> list[str]:
    """Valid, unique sheet names (at most 31 characters, none of ``[]:*?/\\``, unique
    ignoring case) for table names, in order."""
    used: set[str] = set()
    out = []
    for name in names:
        base = _BAD_SHEET_CHARS.sub("_", str(name)).strip("'") or "sheet"
        sheet, k = base[:31], 1
        while sheet.lower() in used:
            suffix = f"_{k}"
            sheet, k = base[: 31 - len(suffix)] + suffix, k + 1
        used.add(sheet.lower())
        out.append(sheet)
    return out


def _cells(values: list[Any], letter: str, table: str, column: str) -> list[str]:
    """The ``<c>`` elements of one column (rows 2...); ``""`` for a missing value."""
    out: list[str] = []
    append = out.append
    for i, v in enumerate(values, start=2):
        if type(v).__module__ == "numpy":
            v = v.item()
        if v is None:
            append("")
        elif isinstance(v, bool):
            append(f'<c r="{letter}{i}" t="b"><v>{int(v)}</v></c>')
        elif isinstance(v, float):
            if v != v:
                append("")
            elif math.isinf(v):
                append(f'<c r="{letter}{i}" t="e"><v>#NUM!</v></c>')
            else:
                append(f'<c r="{letter}{i}"><v>{v!r}</v></c>')
        elif isinstance(v, int):
            append(f'<c r="{letter}{i}"><v>{v}</v></c>')
        elif _is_na(v):
            append("")
        else:
            s = v.isoformat() if hasattr(v, "isoformat") else str(v)
            if len(s) > MAX_CELL_CHARS:
                raise XlsxError(
                    f"table {table!r}, column {column!r}, row {i - 1}: a text of {len(s):,} characters "
                    f"does not fit an Excel cell ({MAX_CELL_CHARS:,} at most). Export as csv or parquet."
                )
            append(f'<c r="{letter}{i}" t="inlineStr"><is><t xml:space="preserve">{_text(s)}</t></is></c>')
    return out


def _is_na(v: Any) -> bool:
    try:
        import pandas as pd

        return v is pd.NA or v is pd.NaT
    except ImportError:  # pragma: no cover
        return False


def _sheet_xml(df: pd.DataFrame, table: str) -> Iterable[str]:
    n_rows, n_cols = df.shape
    if n_rows + 1 > MAX_ROWS:
        raise XlsxError(
            f"table {table!r} has {n_rows:,} rows; an Excel sheet holds at most {MAX_ROWS - 1:,} below "
            f"its header. Export as csv or parquet."
        )
    letters = [_col_letters(j) for j in range(max(n_cols, 1))]
    last = f"{letters[n_cols - 1] if n_cols else 'A'}{n_rows + 1}"
    yield (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:{last}"/>'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        "</sheetView></sheetViews><sheetData>"
    )
    header = "".join(
        f'<c r="{letters[j]}1" t="inlineStr"><is><t xml:space="preserve">{_text(str(c))}</t></is></c>'
        for j, c in enumerate(df.columns)
    )
    yield f'<row r="1">{header}</row>'
    columns = [
        _cells(df[c].astype(object).tolist(), letters[j], table, str(c)) for j, c in enumerate(df.columns)
    ]
    chunk: list[str] = []
    for i, row in enumerate(zip(*columns, strict=True), start=2):
        chunk.append(f'<row r="{i}">{"".join(row)}</row>')
        if len(chunk) >= 5000:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)
    yield "</sheetData></worksheet>"


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "{sheets}</Types>"
)
_SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def write_xlsx(
    path: str | Path,
    sheets: Sequence[tuple[str, pd.DataFrame]],
    *,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write ``sheets`` (name, table) as one workbook at ``path``; return the path.

    Sheet names are made valid with :func:`sheet_names`. Missing values (NaN, None, NA)
    become empty cells; infinities the error value ``#NUM!``. Raises :class:`XlsxError`
    when a table exceeds Excel's limits.
    """
    out = Path(path)
    names = sheet_names(name for name, _ in sheets)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for n, ((table, df), _sheet) in enumerate(zip(sheets, names, strict=True), start=1):
            if progress is not None:
                progress(f"writing sheet {table} ({len(df):,} rows)")
            with z.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as f:
                for piece in _sheet_xml(df, table):
                    f.write(piece.encode("utf-8"))
        z.writestr(
            "[Content_Types].xml",
            _CONTENT_TYPES.format(sheets="".join(_SHEET_TYPE.format(n=n) for n in range(1, len(names) + 1))),
        )
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            + "".join(
                f'<sheet name="{escape(s, {chr(34): "&quot;"})}" sheetId="{n}" r:id="rId{n}"/>'
                for n, s in enumerate(names, start=1)
            )
            + "</sheets></workbook>",
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(
                f'<Relationship Id="rId{n}" '
                'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                f'Target="worksheets/sheet{n}.xml"/>'
                for n in range(1, len(names) + 1)
            )
            + f'<Relationship Id="rId{len(names) + 1}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
            'Target="styles.xml"/></Relationships>',
        )
        z.writestr("xl/styles.xml", _STYLES)
    return out
