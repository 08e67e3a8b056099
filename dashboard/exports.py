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
