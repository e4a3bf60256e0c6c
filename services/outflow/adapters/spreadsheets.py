"""A `Sheet` as CSV (streamed in chunks) or XLSX (openpyxl's write-only mode, to a file).

CSV starts with a UTF-8 byte order mark: without it Excel, which the county offices open these
with, reads the Chinese as GBK mojibake. Text a spreadsheet would take for a formula (=, +, -, @)
is prefixed with an apostrophe: a name or employer typed as "=HYPERLINK(...)" must stay text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from services.outflow.adapters.export_rows import Sheet

BOM = "\ufeff"
_FLUSH_ROWS = 500
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_chunks(sheet: Sheet) -> Iterator[bytes]:
    """The sheet as UTF-8 CSV (with BOM), a few hundred rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(sheet.headers)
    for n, row in enumerate(sheet.rows, start=1):
        writer.writerow([_safe(v) for v in row])
        if n % _FLUSH_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def write_xlsx(sheet: Sheet, path: Path) -> int:
    """Writes the sheet to `path` row by row (write-only mode keeps no cells in memory);
    returns the number of data rows."""
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(sheet.title)
    ws.freeze_panes = "A2"  # the header stays in view while scrolling
    for index, header in enumerate(sheet.headers):
        ws.column_dimensions[get_column_letter(index + 1)].width = max(10, 2 * len(header) + 4)
    bold = Font(bold=True)
    header_cells = []
    for header in sheet.headers:
        cell = WriteOnlyCell(ws, value=header)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    count = 0
    for row in sheet.rows:
        ws.append([_safe(v) for v in row])
        count += 1
    workbook.save(path)
    return count
