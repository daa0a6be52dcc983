"""Training examples by lead age: each closed lead seen as it looked 1, 7, 14, 30 ... days in.

A closed lead's lead-table row describes it at export time, long after the deal was decided. Scoring
happens while the lead is open, at some age, with the evidence gathered so far: so a closed lead
contributes one example per configured age at which it was still open (``as_of < closed_at``), each
labelled with its eventual outcome, and weighted so the lead's examples sum to one (a long sales
cycle must not count more than a short one). Open leads are scored once, at the reference date (or a
given as-of time), at their current age. Every example carries its lead id, so a split by lead keeps
all of a lead's examples on one side.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from leadscore.config import ColumnsConfig
from leadscore.data.outcomes import outcome_labels
from leadscore.data.validation import parse_timestamps, require_columns
from leadscore.errors import DataValidationError

SNAPSHOT_COLUMNS = ("as_of", "created_at", "age_days", "label", "weight", "is_open")


def snapshots_by_age(
    leads: pd.DataFrame,
    *,
    columns: ColumnsConfig,
    reference_date: str | pd.Timestamp,
    ages_days: Sequence[float] = (1, 7, 14, 30),
    closed_at: str = "closed_at",
    as_of: str | pd.Timestamp | None = None,
    horizon_days: float | None = None,
    source: str = "lead table",
) -> pd.DataFrame:
    """One row per (lead, as-of time) to featurize: closed leads at each age, open leads now.

    Parameters
    ----------
    leads : DataFrame
        The lead table with ``columns.id``, ``columns.created_at``, ``columns.status`` and
        ``closed_at`` (when the outcome became known; may be empty for open leads).
    columns : ColumnsConfig
        Column roles (params ``columns``).
    reference_date : str or Timestamp
        The export date: open leads are scored at it unless ``as_of`` is given.
    ages_days : sequence of float
        Ages (days after creation) at which closed leads are seen, if still open then.
    as_of : str or Timestamp, optional
        Score open leads at this time instead (``--as-of DATE``); open leads created at or after it
        are left out.
    horizon_days : float, optional
        Label 1 only when the lead was won within this many days of the snapshot (default: won at all).

    Returns
    -------
    DataFrame
        ``columns.id`` then :data:`SNAPSHOT_COLUMNS`: ``label`` is 1.0/0.0 for closed leads and NaN
        for open ones, ``weight`` sums to one per lead, ``age_days`` is ``as_of - created_at`` in days.
        Closed leads first (in lead order, ages ascending), then open leads. A closed lead that closed
        before the first age contributes no example.

    Raises
    ------
    DataValidationError
        If a column is missing, a date cannot be parsed, or a closed lead has no ``closed_at``.
    """
    if columns.created_at is None:
        raise DataValidationError(
            f"{source}: snapshots by lead age need a creation date; params columns.created_at is null"
        )
    ages = np.asarray(sorted({float(a) for a in ages_days}), dtype=np.float64)
    if not len(ages) or (ages < 0).any() or not np.isfinite(ages).all():
        raise DataValidationError(
            f"snapshots by age: params activities.snapshot_ages_days must be non-negative days, e.g. [1, 7, 14, 30]; "
            f"got {list(ages_days)}"
        )
    if horizon_days is not None and not horizon_days > 0:
        raise DataValidationError(
            f"snapshots by age: params activities.label_horizon_days must be > 0 days or null, got {horizon_days!r}"
        )
    require_columns(leads, [columns.id, columns.created_at, columns.status, closed_at], what="snapshots", source=source)
    labels = outcome_labels(leads, columns, source=source).to_numpy()
    created = pd.DatetimeIndex(parse_timestamps(leads, columns.created_at, source=source))
    closed_raw = leads[closed_at]
    closed = pd.DatetimeIndex(pd.to_datetime(closed_raw, errors="coerce", format="mixed"))
    bad = closed.isna() & closed_raw.notna().to_numpy()
    if bad.any():
        raise DataValidationError(
            f"{source}: column {closed_at!r} should hold dates; {int(bad.sum())} values could not be parsed, "
            f"e.g. {closed_raw[bad].iloc[0]!r}"
        )
    is_closed = ~np.isnan(labels)
    no_close = is_closed & closed.isna()
    if no_close.any():
        example = leads.loc[no_close, columns.id].iloc[0]
        raise DataValidationError(
            f"{source}: column {closed_at!r} is empty for {int(no_close.sum())} closed (won/lost) leads, e.g. lead "
            f"{example!r}; it must say when the outcome became known, e.g. '2026-05-14'"
        )
    ids = leads[columns.id].reset_index(drop=True)

    # --- closed leads: one example per age at which the lead was still open --------------------------
    idx = np.flatnonzero(is_closed)
    lead = np.repeat(idx, len(ages))
    age = np.tile(ages, len(idx))
    snap = created[lead] + pd.to_timedelta(age, unit="D")
    keep = np.asarray(snap < closed[lead])
    lead, age, snap = lead[keep], age[keep], snap[keep]
    label = labels[lead]
    if horizon_days is not None:
        within = np.asarray(closed[lead] <= snap + pd.Timedelta(days=float(horizon_days)))
        label = np.where(within, label, 0.0)
    per_lead = np.bincount(lead, minlength=len(leads))
    closed_part = pd.DataFrame(
        {
            columns.id: ids.iloc[lead].to_numpy(),
            "as_of": snap,
            "created_at": created[lead],
            "age_days": age,
            "label": label.astype(np.float64),
            "weight": 1.0 / per_lead[lead],
            "is_open": False,
        }
    )

    # --- open leads: one example now, at their current age -------------------------------------------
    now = pd.Timestamp(as_of if as_of is not None else reference_date)
    if pd.isna(now):
        raise DataValidationError(f"snapshots by age: as-of time must be a date like '2026-06-30', got {as_of!r}")
    open_idx = np.flatnonzero(~is_closed & np.asarray(created < now))
    open_part = pd.DataFrame(
        {
            columns.id: ids.iloc[open_idx].to_numpy(),
            "as_of": pd.DatetimeIndex([now] * len(open_idx)).astype(created.dtype),
            "created_at": created[open_idx],
            "age_days": np.asarray((now - created[open_idx]) / pd.Timedelta(days=1), dtype=np.float64),
            "label": np.nan,
            "weight": 1.0,
            "is_open": True,
        }
    )
    out = pd.concat([closed_part, open_part], ignore_index=True)
    out[columns.id] = out[columns.id].astype(leads[columns.id].dtype)
    return out
