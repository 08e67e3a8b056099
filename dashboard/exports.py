"""Exports for meetings: frames to files people open in Excel."""

from __future__ import annotations

from typing import Any

import polars.selectors as cs


def csv_for_excel(frame: Any, labels: dict[str, str], header: str) -> str:
    """CSV with labelled columns (in `labels` order) and a comment line on top. The BOM makes Excel
    read the Chinese as UTF-8 instead of guessing a legacy code page."""
    # rates and indexes come out of the queries at full float precision (97.8151517802467); four
    # decimals keep 0.1 % and 0.01 points exact while staying readable in a spreadsheet
    rows = frame.select(list(labels)).with_columns(cs.float().round(4)).rename(labels).write_csv()
    return "\ufeff" + f"# {header}\n" + rows


def tables_csv(tables: dict[str, Any], titles: dict[str, str], header: str) -> str:
    """Several text tables in one CSV, each under its title line and apart by a blank line: opened in
    Excel or pasted into Word (text to table), it reads like the paper's tables."""
    parts = [f"# {header}"]
    for key, frame in tables.items():
        parts += ["", titles.get(key, key), frame.write_csv().rstrip("\n")]
    return "\ufeff" + "\n".join(parts) + "\n"


def tables_xlsx(tables: dict[str, Any], titles: dict[str, str], header: str) -> bytes:
    """The same tables as an Excel workbook: one sheet each, the header and the table's title on top."""
    import io

    from openpyxl import Workbook

    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for key, frame in tables.items():
        ws = wb.create_sheet(key[:31])
        ws.append([header])
        ws.append([titles.get(key, key)])
        ws.append(list(frame.columns))
        for row in frame.iter_rows():
            ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
