"""Checks that a raw lead table matches the column roles declared in params.yaml."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from leadscore.errors import DataValidationError


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, what: str, source: str = "lead table") -> None:
    """Raise one error listing every column of ``columns`` absent from ``df``.

    ``what`` says where the columns were declared (e.g. ``"params features.fit"``), so the user knows
    which list to fix.
    """
    missing = [c for c in dict.fromkeys(columns) if c not in df.columns]
    if missing:
        shown = ", ".join(repr(c) for c in missing)
        available = ", ".join(map(repr, list(df.columns)[:25]))
        raise DataValidationError(
            f"{source}: missing column(s) {shown} required by {what}. Available columns: {available}"
        )


def validate_ids(df: pd.DataFrame, id_column: str, *, source: str = "lead table") -> None:
    """The id column must exist, have no missing values and be unique."""
    require_columns(df, [id_column], what="params columns.id", source=source)
    ids = df[id_column]
    if ids.isna().any():
        raise DataValidationError(
            f"{source}: column {id_column!r} (the lead id) has {int(ids.isna().sum())} missing values"
        )
    dupes = ids[ids.duplicated()]
    if len(dupes):
        raise DataValidationError(
            f"{source}: column {id_column!r} (the lead id) must be unique; "
            f"{len(dupes)} duplicates, e.g. {dupes.iloc[0]!r}"
        )


def parse_timestamps(df: pd.DataFrame, column: str, *, source: str = "lead table") -> pd.Series:
    """Parse ``column`` as datetimes, naming the column when values cannot be parsed."""
    require_columns(df, [column], what="params columns.created_at", source=source)
    values = df[column]
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    bad = parsed.isna() & values.notna()
    if bad.any():
        example = values[bad].iloc[0]
        raise DataValidationError(
            f"{source}: column {column!r} should hold dates; {int(bad.sum())} values could not be "
            f"parsed, e.g. {example!r}"
        )
    if parsed.isna().any():
        raise DataValidationError(
            f"{source}: column {column!r} has {int(parsed.isna().sum())} missing dates; "
            "a time-based split needs a creation date on every lead"
        )
    return parsed
