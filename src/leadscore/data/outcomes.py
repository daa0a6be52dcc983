"""Outcome labels (won / lost / open) and the train / calibration / test split of closed leads."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.config import ColumnsConfig, SplitConfig
from leadscore.data.validation import check_split_dates, parse_timestamps, require_columns
from leadscore.errors import DataValidationError

# Split names, in time order. "early_stopping" is the most recent slice of the training period: the
# models use it only to stop boosting, never to fit trees, calibrate or report.
TRAIN, EARLY_STOPPING, CALIBRATION, TEST, OPEN = "train", "early_stopping", "calibration", "test", "open"
TRAINING_SPLITS = (TRAIN, EARLY_STOPPING)
# Issue 11 (columns.closed_at): a lead of the training period whose outcome became known only after the
# training cut-off. It was open when the model would have been trained, so nothing trains on it.
CLOSED_AFTER_CUTOFF = "closed_after_cutoff"


def _normalise_status(values: pd.Series) -> pd.Series:
    # Status values may arrive as numbers (0/1) or text with stray case/space; compare as text.
    return values.map(lambda v: v if pd.isna(v) else str(v).strip().casefold())


def outcome_labels(raw: pd.DataFrame, columns: ColumnsConfig, *, source: str = "lead table") -> pd.Series:
    """Return 1.0 for won, 0.0 for lost and NaN for open leads.

    Raises
    ------
    DataValidationError
        If the status column is missing or holds a value listed in none of won/lost/open_values.
    """
    require_columns(raw, [columns.status], what="params columns.status", source=source)
    status = _normalise_status(raw[columns.status])
    as_text = lambda values: {str(v).strip().casefold() for v in values}  # noqa: E731
    won, lost, open_ = as_text(columns.won_values), as_text(columns.lost_values), as_text(columns.open_values)
    known = status.isin(won | lost | open_)
    if not known.all():
        unknown = sorted({str(v) for v in raw.loc[~known, columns.status].unique()})[:10]
        raise DataValidationError(
            f"{source}: column {columns.status!r} has values {unknown} that are in none of "
            f"params columns.won_values {list(columns.won_values)}, lost_values "
            f"{list(columns.lost_values)} or open_values {list(columns.open_values)}"
        )
    labels = pd.Series(np.nan, index=raw.index, name="label")
    labels[status.isin(won)] = 1.0
    labels[status.isin(lost)] = 0.0
    return labels


def effective_split(split: SplitConfig, columns: ColumnsConfig) -> str:
    """How closed leads are actually ordered, in words, for logs and the report.

    ``split.method == "time"`` with no time column (``columns.created_at: null``) falls back to the
    seeded stratified split rather than failing: the report says so.
    """
    grouped = f"; all rows of a {split.group!r} in one split" if split.group else ""
    if split.method == "time" and columns.created_at is None:
        return "stratified (no time column: columns.created_at is null)" + grouped
    if split.method == "time" and columns.closed_at is not None:
        return (
            f"time (ordered by {columns.created_at!r}); point in time: train and early-stopping leads whose outcome "
            f"({columns.closed_at!r}) came after the training cut-off (the latest {columns.created_at!r} in those "
            f"splits) are not trained on ({CLOSED_AFTER_CUTOFF!r})"
        ) + grouped
    if split.method == "time":
        return f"time (ordered by {columns.created_at!r})" + grouped
    if split.method == "row_order":
        return "row order (the export's rows are taken to be in time order)" + grouped
    return "stratified (seeded random split by outcome; not time-ordered)" + grouped


def split_words(split: SplitConfig, columns: ColumnsConfig) -> dict[str, str | None]:
    """How the report names the test split, following the split actually used.

    Returns ``{"kind", "description", "test_leads", "group"}``: ``kind`` is time / row_order /
    stratified; ``test_leads`` completes "Test split: N ..." (e.g. "most recent closed leads").
    """
    kind = "stratified" if split.method == "time" and columns.created_at is None else split.method
    phrase = {
        "time": "most recent closed leads",
        "row_order": "last closed leads in the export's row order",
        "stratified": "closed leads drawn at random (stratified by outcome; not a forecast of later leads)",
    }[kind]
    if split.group:
        phrase += f", whole groups of {split.group!r} in one split"
    return {"kind": kind, "description": effective_split(split, columns), "test_leads": phrase, "group": split.group}


def _time_order(raw: pd.DataFrame, idx: pd.Index, columns: ColumnsConfig, source: str) -> pd.Series:
    """Sort key for closed leads: dates, or a number read as an order (e.g. a sequential lead number)."""
    created_at = columns.created_at
    assert created_at is not None  # without a time column the caller falls back to a stratified split
    require_columns(raw, [created_at], what="params columns.created_at", source=source)
    values = raw.loc[idx, created_at]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        if values.isna().any():
            raise DataValidationError(
                f"{source}: column {created_at!r} (the time order) has {int(values.isna().sum())} "
                "missing values; a time-ordered split needs one on every lead"
            )
        check_split_dates(values, created_at, source=source)
        return values
    parsed = parse_timestamps(raw.loc[idx], created_at, source=source, date_format=columns.date_format)
    check_split_dates(parsed, created_at, source=source)
    return parsed


def assign_splits(
    raw: pd.DataFrame,
    labels: pd.Series,
    *,
    split: SplitConfig,
    columns: ColumnsConfig,
    source: str = "lead table",
) -> pd.Series:
    """Label each lead train / early_stopping / calibration / test (closed) or open.

    Closed leads are put in order and cut into consecutive blocks, the test block last, so the model
    is judged on leads that came after everything it learned from:

    - ``"time"``: by ``columns.created_at`` (ties by id, so the split is deterministic). Dates, or a
      numeric column read as an order (X Education has no dates; its ``Lead Number`` is the proxy).
      With ``created_at: null`` it falls back to ``"stratified"`` (see :func:`effective_split`).
    - ``"row_order"``: by position in the export, for exports already sorted by time without a
      date column (UCI Bank Marketing).
    - ``"stratified"``: a seeded split stratified by outcome; not a forecast of the future.

    Point in time (``columns.closed_at`` set, ``"time"`` split on dates): the training cut-off is the
    latest ``created_at`` of the train and early-stopping blocks; a lead of those blocks whose outcome
    became known after it is labelled :data:`CLOSED_AFTER_CUTOFF` instead, so it is neither trained
    on, early-stopped on nor audited (it was still open at the cut-off). Calibration and test keep
    every closed lead: they are fitted or judged later, when those outcomes are known.

    With ``split.group`` (e.g. an account id) all closed rows of a group fall in one split: groups
    are taken in the order of their first row (earliest lead, first position, or first draw) and
    each whole group goes to the block its first row falls in. Rows with no group are groups of one.
    """
    closed = labels.notna()
    if closed.sum() < 10:
        raise DataValidationError(f"{source}: only {int(closed.sum())} closed (won/lost) leads; cannot split")
    splits = pd.Series(OPEN, index=raw.index, name="split", dtype=object)
    idx = raw.index[closed.to_numpy()]
    method = "stratified" if split.method == "time" and columns.created_at is None else split.method
    if method == "time":
        created = _time_order(raw, idx, columns, source)
        order = pd.DataFrame({"t": created, "id": raw.loc[idx, columns.id]}).sort_values(["t", "id"], kind="stable")
        ordered = order.index.to_numpy()
    elif method == "row_order":
        ordered = idx.to_numpy()
    else:
        rng = np.random.default_rng(split.seed)
        y = labels.loc[idx].to_numpy()
        # Shuffle within each class, then interleave by rank so every block keeps the class mix.
        keys = np.empty(len(idx))
        for cls in (0.0, 1.0):
            members = np.flatnonzero(y == cls)
            keys[members] = (rng.permutation(len(members)) + 0.5) / max(len(members), 1)
        ordered = idx.to_numpy()[np.argsort(keys, kind="stable")]
    if split.group:
        ordered = _groups_together(raw, ordered, split.group, source)
    n = len(ordered)
    n_train = round(split.train * n)
    n_cal = round(split.calibration * n)
    n_es = max(1, round(split.early_stopping * n_train))
    blocks = np.empty(n, dtype=object)
    blocks[: n_train - n_es] = TRAIN
    blocks[n_train - n_es : n_train] = EARLY_STOPPING
    blocks[n_train : n_train + n_cal] = CALIBRATION
    blocks[n_train + n_cal :] = TEST
    if split.group:
        blocks = _whole_groups(raw.loc[ordered, split.group], blocks)
        empty = [b for b in (TRAIN, EARLY_STOPPING, CALIBRATION, TEST) if not (blocks == b).any()]
        if empty:
            raise DataValidationError(
                f"{source}: with params split.group {split.group!r} the {'/'.join(empty)} split gets no closed "
                "leads (a few groups hold most rows); use a finer group column or none"
            )
    splits.loc[ordered] = blocks
    if method == "time" and columns.closed_at is not None and pd.api.types.is_datetime64_any_dtype(created):
        training = ordered[np.isin(blocks, [TRAIN, EARLY_STOPPING])]  # whole groups moved with split.group
        cutoff = created.loc[training].max()
        closed_at = closed_times(raw, labels, columns, source=source)
        if getattr(cutoff, "tzinfo", None) is not None:
            cutoff = cutoff.tz_convert("UTC").tz_localize(None)
        late = closed_at.loc[training] > cutoff
        splits.loc[training[late.to_numpy()]] = CLOSED_AFTER_CUTOFF
    return splits


def closed_times(
    raw: pd.DataFrame, labels: pd.Series, columns: ColumnsConfig, *, source: str = "lead table"
) -> pd.Series:
    """When each closed lead's outcome became known (``columns.closed_at``, parsed as dates); NaT for open leads.

    Raises
    ------
    DataValidationError
        If the column is missing, not dates, or empty on a closed lead.
    """
    if columns.closed_at is None:
        raise DataValidationError("params columns.closed_at is not set")
    require_columns(raw, [columns.closed_at], what="params columns.closed_at", source=source)
    closed = labels.notna().to_numpy()
    times = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    if closed.any():
        parsed = parse_timestamps(raw.loc[closed], columns.closed_at, source=source)
        if parsed.isna().any():
            raise DataValidationError(
                f"{source}: column {columns.closed_at!r} (when the outcome became known) is empty on "
                f"{int(parsed.isna().sum())} won/lost leads; expected a date on every closed lead, e.g. 2026-03-31"
            )
        times.loc[closed] = parsed.to_numpy(dtype="datetime64[ns]")
    return times


def outcomes_known_at(
    raw: pd.DataFrame, labels: pd.Series, columns: ColumnsConfig, *, cutoff: pd.Timestamp, source: str = "lead table"
) -> pd.Series:
    """``labels`` as they stood at ``cutoff``: a lead closed after it is open (NaN) again.

    Without ``columns.closed_at`` the labels are returned unchanged (the export's outcomes are taken
    as known; the backtest report says so).
    """
    if columns.closed_at is None:
        return labels
    known = closed_times(raw, labels, columns, source=source) <= cutoff
    return labels.where(known.to_numpy() | labels.isna().to_numpy())


def lead_order(
    raw: pd.DataFrame, *, split: SplitConfig, columns: ColumnsConfig, source: str = "lead table"
) -> pd.Series:
    """Every lead's place in time: ``columns.created_at`` (dates, or numbers read as an order), or the
    row position for ``split.method: row_order`` or when there is no time column.

    Raises
    ------
    DataValidationError
        If the time column is missing or cannot be read.
    """
    if split.method == "row_order" or columns.created_at is None:
        return pd.Series(np.arange(len(raw), dtype="float64"), index=raw.index)
    require_columns(raw, [columns.created_at], what="params columns.created_at", source=source)
    values = raw[columns.created_at]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    return parse_timestamps(raw, columns.created_at, source=source, date_format=columns.date_format)


def calibration_window(splits: pd.Series, order: pd.Series, *, method: str, value: float | None) -> np.ndarray:
    """Boolean mask of the calibration rows to calibrate on (params ``calibrate.window``).

    ``"split"``: the whole calibration split. ``"share"``: its most recent ``value`` share. ``"months"``:
    its leads created in the last ``value`` calendar months (30.44-day months) before its latest lead.
    The window never reaches into the train split (the models were fitted there) nor the test split
    (judged later): it is the most recent part of the calibration split.

    Raises
    ------
    DataValidationError
        If ``"months"`` is asked of leads without dates.
    """
    cal = (splits == CALIBRATION).to_numpy()
    if method == "split" or value is None:
        return cal
    keys = order[cal]
    if method == "share":
        n = max(1, int(np.ceil(value * cal.sum())))
        position = np.flatnonzero(cal)[np.argsort(keys.to_numpy(), kind="stable")][-n:]
        mask = np.zeros(len(splits), dtype=bool)
        mask[position] = True
        return mask
    if not pd.api.types.is_datetime64_any_dtype(order):
        raise DataValidationError(
            "params calibrate.window.method 'months' needs dates in columns.created_at; use method 'share' instead"
        )
    start = keys.max() - pd.Timedelta(days=30.44 * value)
    return cal & (order > start).to_numpy()


def _group_keys(values: pd.Series) -> np.ndarray:
    # Missing group: each such row is a group of its own (keyed by position, never equal to a value).
    keys = np.array([repr(v) for v in values.astype(object)], dtype=object)
    missing = pd.isna(values).to_numpy()
    keys[missing] = [f"\x00row{i}" for i in np.flatnonzero(missing)]
    return pd.factorize(keys)[0]


def _groups_together(raw: pd.DataFrame, ordered: np.ndarray, group: str, source: str) -> np.ndarray:
    """``ordered`` reordered so each group's rows are contiguous, groups in order of first appearance."""
    require_columns(raw, [group], what="params split.group", source=source)
    codes = _group_keys(raw.loc[ordered, group])  # factorize numbers groups by first appearance
    return ordered[np.argsort(codes, kind="stable")]


def _whole_groups(groups: pd.Series, blocks: np.ndarray) -> np.ndarray:
    """Each (contiguous) group takes the block of its first row."""
    codes = _group_keys(groups)
    first = pd.Series(np.arange(len(codes))).groupby(codes).transform("min").to_numpy()
    return blocks[first]
