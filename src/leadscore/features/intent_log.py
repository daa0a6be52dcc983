"""Intent from an activity log in the pipeline: snapshot rows a scorer reads, and how they are built.

With params ``activities.source`` set, a *row* the models train on or score is a lead as it looked at
one moment: its static lead-table columns (fit, BANT, ``activities.static_intent``) plus the
point-in-time features of its activity log as of that moment (:mod:`leadscore.features.activity`).
Closed leads give one row per age in ``activities.snapshot_ages_days`` at which they were still open
(:func:`~leadscore.features.snapshots.snapshots_by_age`); open leads one row, now. Every stage builds
its rows with :func:`activity_rows`, so featurize, calibrate, evaluate, predict and register see the
same numbers for the same (lead, as-of) pair.

:func:`activity_features_config` is the featurizer's view: intent becomes the chosen log features
(plus the static intent columns); the lead table's pre-aggregated intent columns and the ratios built
from them are left out. The chosen windows and half-lives travel in the featurizer
(``featurizer.activity_``, :func:`spec_from_dict`), so a scorer knows how to rebuild its input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from leadscore.config import ActivitiesConfig, FeaturesConfig, Params
from leadscore.errors import DataValidationError
from leadscore.features.activity import (
    LEAD_AGE,
    ActivityFeatureSpec,
    EventColumns,
    EventSource,
    activity_types,
    naive_all_time_features,
    point_in_time_features,
)

# Columns of a snapshot row (and of the feature tables in activity mode) beside the lead's own.
AS_OF, AGE, WEIGHT = "as_of", "age_days", "weight"
SNAPSHOT_META = (AS_OF, AGE, WEIGHT)
NAIVE_SUFFIX = "_all"


def event_columns(config: ActivitiesConfig) -> EventColumns:
    """The log's column roles (params ``activities.columns``)."""
    c = config.columns
    return EventColumns(lead_id=c.lead_id, timestamp=c.timestamp, activity_type=c.activity_type)


def log_types(config: ActivitiesConfig, events: EventSource) -> tuple[str, ...]:
    """Params ``activities.types``, or every type found in the log when it is empty."""
    if config.types:
        return tuple(config.types)
    found = activity_types(
        events, columns=event_columns(config), threads=config.threads, memory_limit=config.memory_limit
    )
    if not found:
        raise DataValidationError(
            f"{events if isinstance(events, str) else 'activity log'}: the activity log holds no events; "
            "params activities.source needs a log with rows like ('L0000001', '2026-06-30 14:05:00', 'web_visit')"
        )
    return found


def candidate_spec(config: ActivitiesConfig, types: Sequence[str]) -> ActivityFeatureSpec:
    """Every window and half-life of the candidates at once (the decay choice picks among them)."""
    return ActivityFeatureSpec(
        types=tuple(types),
        windows_days=tuple(sorted({float(w) for s in config.window_candidates for w in s})),
        half_lives_days=tuple(sorted({float(h) for s in config.half_life_candidates for h in s})),
        momentum_days=config.momentum_days,
    )


def spec_to_dict(spec: ActivityFeatureSpec) -> dict[str, Any]:
    """The spec as JSON-able data (``featurizer.activity_``)."""
    return {
        "types": list(spec.types),
        "windows_days": list(spec.windows_days),
        "half_lives_days": list(spec.half_lives_days),
        "momentum_days": list(spec.momentum_days),
        "include_any": spec.include_any,
    }


def spec_from_dict(data: dict[str, Any]) -> ActivityFeatureSpec:
    """The spec :func:`spec_to_dict` wrote."""
    return ActivityFeatureSpec(
        types=tuple(data["types"]),
        windows_days=tuple(data["windows_days"]),
        half_lives_days=tuple(data["half_lives_days"]),
        momentum_days=(float(data["momentum_days"][0]), float(data["momentum_days"][1])),
        include_any=bool(data.get("include_any", True)),
    )


def reference_date(params: Params, events: EventSource) -> pd.Timestamp:
    """When open leads are scored: params ``activities.reference_date``, the synthetic CRM's reference
    date, or the day after the log's last event (midnight)."""
    if params.activities.reference_date is not None:
        return pd.Timestamp(params.activities.reference_date)
    if params.data.is_synthetic:
        return pd.Timestamp(params.data.synthetic.reference_date)
    import duckdb

    from leadscore.features.activity import _relation_sql

    con = duckdb.connect()
    try:
        rel, _ = _relation_sql(con, events, "__events")
        last = con.execute(f'SELECT max("{params.activities.columns.timestamp}")::TIMESTAMP FROM {rel}').fetchone()
    finally:
        con.close()
    if last is None or last[0] is None:
        raise DataValidationError("activity log: no timestamps; set params activities.reference_date, e.g. 2026-06-30")
    return pd.Timestamp(last[0]).normalize() + pd.Timedelta(days=1)


def activity_rows(
    leads: pd.DataFrame,
    events: EventSource,
    snapshots: pd.DataFrame,
    *,
    params: Params,
    spec: ActivityFeatureSpec,
    source: str = "activity log",
    lead_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One scorer input row per snapshot: the lead's raw columns plus its point-in-time log features.

    Parameters
    ----------
    leads : DataFrame
        The raw lead table (unique ``columns.id``).
    events : path, DataFrame or Arrow table
        The activity log.
    snapshots : DataFrame
        ``columns.id`` and ``as_of`` per row (other columns, such as ``age_days`` and ``weight``, pass
        through); the lead's ``columns.created_at`` gives ``lead_age_days``.
    spec : ActivityFeatureSpec
        Which features.
    lead_columns : sequence of str, optional
        The lead-table columns to carry (those present; default all): a lead appears once per
        snapshot, so carrying only what the scorer reads keeps memory down (:func:`row_columns`).

    Returns
    -------
    DataFrame
        Row-aligned with ``snapshots``: the lead table's columns, the snapshot's columns, then
        ``spec.feature_names()``. A snapshot of a lead not in ``leads`` is an error.
    """
    id_col, created = params.columns.id, params.columns.created_at
    index = pd.Index(leads[id_col])
    at = index.get_indexer(snapshots[id_col])
    if (at < 0).any():
        missing = snapshots[id_col][at < 0].iloc[0]
        raise DataValidationError(f"{source}: snapshot of lead {missing!r}, which is not in the lead table")
    if lead_columns is not None:
        keep = [id_col, *(c for c in dict.fromkeys(lead_columns) if c in leads.columns and c != id_col)]
        leads = leads[keep]
    base = leads.iloc[at].reset_index(drop=True)
    snap = snapshots.reset_index(drop=True)
    frame = pd.concat([base.drop(columns=[c for c in snap.columns if c in base.columns]), snap], axis=1)
    created_col = None
    if created is not None and created in frame.columns:
        created_col = "__created"
        frame[created_col] = pd.to_datetime(frame[created], errors="coerce", format="mixed")
    cfg = params.activities
    features = point_in_time_features(
        events,
        frame[[id_col, AS_OF, *([created_col] if created_col else [])]],
        spec=spec,
        columns=event_columns(cfg),
        id_column=id_col,
        as_of_column=AS_OF,
        created_at_column=created_col,
        threads=cfg.threads,
        memory_limit=cfg.memory_limit,
    )
    names = spec.feature_names(with_lead_age=created_col is not None)
    frame = frame.drop(columns=[c for c in [created_col, *names] if c is not None and c in frame.columns])
    return pd.concat([frame, features[names]], axis=1)


def row_columns(params: Params) -> list[str]:
    """The lead-table columns a snapshot row needs: id, time and outcome columns, fit, static intent,
    ratio inputs, BANT criteria, excluded columns (audited) and the split group."""
    c, f = params.columns, params.features
    names = [c.id, c.created_at, c.closed_at, c.status, params.split.group]
    names += [*f.fit, *params.activities.static_intent, *(x for pair in f.ratios.values() for x in pair)]
    names += [criterion.column for criterion in params.bant.criteria.values()]
    names += list(f.exclude)
    return [n for n in dict.fromkeys(names) if n is not None]


def naive_columns(types: Sequence[str]) -> list[str]:
    """``n_<type>_all`` (and ``n_any_all``): the leaky all-time counts :func:`naive_all_time_features` gives."""
    from leadscore.features.activity import ANY, type_slug

    return [f"n_{type_slug(t)}{NAIVE_SUFFIX}" for t in types] + [f"n_{ANY}{NAIVE_SUFFIX}"]


def naive_rows(events: EventSource, snapshots: pd.DataFrame, *, params: Params, types: Sequence[str]) -> pd.DataFrame:
    """The naive all-time counts of each snapshot's lead (row-aligned; the leak the audit flags)."""
    cfg = params.activities
    out = naive_all_time_features(
        events,
        snapshots[[params.columns.id]],
        types=types,
        columns=event_columns(cfg),
        id_column=params.columns.id,
        threads=cfg.threads,
        memory_limit=cfg.memory_limit,
    )
    return out[naive_columns(types)]


def naive_at_age(events: EventSource, snapshots: pd.DataFrame, *, params: Params, types: Sequence[str]) -> pd.DataFrame:
    """What the naive all-time counts hold when an open lead is scored at ``as_of``: every event so far.

    Named like :func:`naive_columns`, so a model trained on the all-time counts scores these rows.
    """
    cfg = params.activities
    # A window longer than any log: "all time" as seen at the as-of moment.
    forever = 365.0 * 200
    spec = ActivityFeatureSpec(types=tuple(types), windows_days=(forever,), half_lives_days=(forever,))
    out = point_in_time_features(
        events,
        snapshots[[params.columns.id, AS_OF]],
        spec=spec,
        columns=event_columns(cfg),
        id_column=params.columns.id,
        as_of_column=AS_OF,
        created_at_column=None,
        threads=cfg.threads,
        memory_limit=cfg.memory_limit,
    )
    from leadscore.features.activity import ANY, type_slug, window_column

    slugs = [type_slug(t) for t in types] + [ANY]
    renamed = {window_column(s, forever): f"n_{s}{NAIVE_SUFFIX}" for s in slugs}
    return out[list(renamed)].rename(columns=renamed)


def activity_features_config(
    features: FeaturesConfig, *, intent: Sequence[str], static_intent: Sequence[str], exclude: Sequence[str] = ()
) -> FeaturesConfig:
    """The featurizer's features with intent from the log: ``static_intent`` + ``intent`` (the log's
    columns); the lead table's other intent columns, and ratios or flags built on them, are dropped.

    Raises
    ------
    DataValidationError
        If a static intent column is also a fit column.
    """
    clash = sorted(set(static_intent) & set(features.fit))
    if clash:
        raise DataValidationError(f"params activities.static_intent lists fit column(s) {clash}")
    new_intent = tuple(dict.fromkeys([*static_intent, *intent]))
    keep = set(features.fit) | set(new_intent)
    ratios = {name: pair for name, pair in features.ratios.items() if pair[0] in features.fit}
    data = features.model_dump()
    data.update(
        intent=new_intent,
        ratios=ratios,
        job_title_columns=tuple(c for c in features.job_title_columns if c in keep),
        categorical=tuple(c for c in features.categorical if c in keep or c in ratios),
        allow_strong=tuple(c for c in features.allow_strong if c in keep or c in ratios),
        category_aliases={k: v for k, v in features.category_aliases.items() if k in keep},
        exclude=tuple(dict.fromkeys([*features.exclude, *exclude])),
    )
    return FeaturesConfig.model_validate(data)


def lead_weights(snapshots: pd.DataFrame, *, id_column: str) -> np.ndarray:
    """1 / (number of the lead's rows): each lead's rows sum to one, whichever rows are kept."""
    counts = snapshots.groupby(id_column, sort=False)[id_column].transform("size").to_numpy()
    return 1.0 / counts


__all__ = [
    "AGE",
    "AS_OF",
    "LEAD_AGE",
    "SNAPSHOT_META",
    "WEIGHT",
    "activity_features_config",
    "activity_rows",
    "candidate_spec",
    "event_columns",
    "lead_weights",
    "log_types",
    "naive_at_age",
    "naive_columns",
    "naive_rows",
    "reference_date",
    "row_columns",
    "spec_from_dict",
    "spec_to_dict",
]
