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
    return splits


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
