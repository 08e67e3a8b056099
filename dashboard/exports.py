"""Exports for meetings: frames to files people open in Excel."""

from __future__ import annotations

from typing import Any


def csv_for_excel(frame: Any, labels: dict[str, str], header: str) -> str:
    """CSV with labelled columns (in `labels` order) and a comment line on top. The BOM makes Excel
    read the Chinese as UTF-8 instead of guessing a legacy code page."""
    rows = frame.select(list(labels)).rename(labels).write_csv()
    return "\ufeff" + f"# {header}\n" + rows
