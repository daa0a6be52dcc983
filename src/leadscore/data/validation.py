"""Checks that a raw lead table matches the column roles declared in params.yaml."""

from __future__ import annotations

import re
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


# "03/04/2026", "3.4.26", "03-04-2026 10:00": day and month both numbers, either could come first.
_DAY_MONTH = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}(?:\D.*)?$")
# Share of dates that may read differently day-first vs month-first before the column is ambiguous.
AMBIGUOUS_DATE_SHARE = 0.02


def _day_month_order(values: pd.Series, column: str, source: str) -> bool | None:
    """For text dates like 03/04/2026: True if day-first, False if month-first, None if not that shape.

    Raises when the two readings are both possible and disagree for more than a few percent of the
    dates (the user must say which one with ``columns.date_format``), or when the column mixes both.
    """
    text = pd.Series(pd.unique(values.dropna().astype(str)))
    parts = text.str.extract(_DAY_MONTH)
    shaped = parts.notna().all(axis=1)
    if not len(text) or shaped.mean() < 0.5:
        return None
    first, second = parts[0][shaped].astype(int), parts[1][shaped].astype(int)
    hint = "set params columns.date_format (e.g. '%d/%m/%Y' or '%m/%d/%Y')"
    if (first > 12).any() and (second > 12).any():
        raise DataValidationError(
            f"{source}: column {column!r} mixes day-first and month-first dates "
            f"(e.g. {text[shaped][first > 12].iloc[0]!r} and {text[shaped][second > 12].iloc[0]!r}); {hint}"
        )
    if (first > 12).any():
        return True
    if (second > 12).any():
        return False
    # Both readings are valid for every date: refuse if they disagree for more than a few percent.
    counts = values.dropna().astype(str).value_counts()
    swapped = text[shaped][first != second]
    changed = int(counts.reindex(swapped).fillna(0).sum())
    total = int(counts.sum())
    if changed > AMBIGUOUS_DATE_SHARE * total:
        raise DataValidationError(
            f"{source}: column {column!r} has dates that read both day-first and month-first "
            f"(e.g. {swapped.iloc[0]!r}); the two readings differ for {changed:,} of {total:,} dates; {hint}"
        )
    return False


def parse_timestamps(
    df: pd.DataFrame, column: str, *, source: str = "lead table", date_format: str | None = None
) -> pd.Series:
    """Parse ``column`` as datetimes, naming the column when values cannot be parsed.

    With ``date_format`` (params ``columns.date_format``, e.g. ``"%d/%m/%Y"``) every text value must
    match it. Without one, dates shaped like ``03/04/2026`` are read day-first if some day is above 12
    (``25/03/2026``), month-first if some month position is above 12, and refused when both readings
    are possible and disagree for more than 2% of the dates (pandas would otherwise read each value
    whichever way parses, swapping day and month for part of the column).
    """
    require_columns(df, [column], what="params columns.created_at", source=source)
    values = df[column]
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    if date_format is not None:
        parsed = pd.to_datetime(values, errors="coerce", format=date_format)
        expected = f"dates in params columns.date_format {date_format!r}"
    else:
        dayfirst = _day_month_order(values, column, source)
        if dayfirst is not None:
            parsed = pd.to_datetime(values, errors="coerce", format="%d/%m/%Y" if dayfirst else "%m/%d/%Y")
            # Other separators, 2-digit years or a time part: the same order, any layout.
            rest = parsed.isna() & values.notna()
            if rest.any():
                parsed[rest] = pd.to_datetime(values[rest], errors="coerce", format="mixed", dayfirst=dayfirst)
        else:
            parsed = pd.to_datetime(values, errors="coerce", format="mixed")
        expected = "dates"
    bad = parsed.isna() & values.notna()
    if bad.any():
        example = values[bad].iloc[0]
        raise DataValidationError(
            f"{source}: column {column!r} should hold {expected}; {int(bad.sum())} values could not be "
            f"parsed, e.g. {example!r}"
        )
    if parsed.isna().any():
        raise DataValidationError(
            f"{source}: column {column!r} has {int(parsed.isna().sum())} missing dates; "
            "a time-based split needs a creation date on every lead"
        )
    return parsed


def check_split_dates(created: pd.Series, column: str, *, source: str = "lead table", now=None) -> list[str]:
    """Warnings about the dates a time split is ordered by (logged, and returned for tests).

    - dates later than now (the run's own clock, UTC): an export cannot hold leads created in the
      future, so the column is probably not the creation date, or its day/month or timezone is off;
    - every date identical: the "time" split is then only an order by lead id.
    """
    import logging

    out: list[str] = []
    if not len(created):
        return out
    if pd.api.types.is_datetime64_any_dtype(created):
        now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
        values = created.dt.tz_convert("UTC") if created.dt.tz is not None else created.dt.tz_localize("UTC")
        future = values > now
        if future.any():
            out.append(
                f"{source}: column {column!r} has {int(future.sum()):,} dates later than now ({now:%Y-%m-%d}), "
                f"e.g. {created[future].iloc[0]}: is it really the creation date (day/month order, timezone)?"
            )
    if created.nunique(dropna=True) == 1:
        out.append(
            f"{source}: column {column!r} holds the same value ({created.iloc[0]}) for every closed lead: the time "
            "split can only order them by id; use split.method row_order or stratified, or a real creation date"
        )
    for message in out:
        logging.getLogger(__name__).warning(message)
    return out
