"""CSV cells a spreadsheet will not run (OWASP "CSV injection").

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return can be taken for a
formula by Excel, LibreOffice or Google Sheets; such a cell gets a leading `'`, which the
spreadsheet shows as text. Numbers stay numbers (a negative number is not text we echo).
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: dict[str, Any]) -> dict[str, Any]:
    return {key: safe_cell(value) for key, value in row.items()}
