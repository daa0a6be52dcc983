"""Activity-log rows for the stages (issue 14): training snapshots by lead age, and the rows a scorer reads.

With params ``activities.source`` set, featurize turns the lead table into snapshot rows (a lead at
each configured age, and open leads now), chooses the count windows and decay half-lives on the
calibration split, and writes feature tables with one row per snapshot (``as_of``, ``age_days`` and
``weight`` beside ``split`` and ``label``). Calibrate, evaluate, predict and register rebuild the same
rows from the raw leads, the log and the featurizer's chosen spec with :func:`table_rows`;
:func:`open_leads_as_of` gives the open leads' rows as of any date (``predict --as-of``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

if TYPE_CHECKING:
    from leadscore.config import FeaturesConfig, Params
    from leadscore.features.build import LeadFeaturizer

log = logging.getLogger(__name__)


class SnapshotRows(NamedTuple):
    """Featurize's snapshot rows: raw lead columns + log features, with their labels and splits."""

    rows: pd.DataFrame
    labels: pd.Series
    splits: pd.Series
    features: FeaturesConfig  # the featurizer's view: intent from the log
    report: dict[str, Any]  # the decay choice and the snapshot counts (feature_audit.json "activity")
    meta: pd.DataFrame  # as_of, age_days, weight per row


def snapshot_training_rows(
    params: Params,
    leads: pd.DataFrame,
    labels: pd.Series,
    splits: pd.Series,
    *,
    activities: Any,
    source: str = "lead table",
) -> SnapshotRows:
    """Closed leads at each age they were open, open leads now; windows and half-lives chosen.

    ``labels`` and ``splits`` are per lead (row-aligned with ``leads``); each snapshot takes its lead's
    split, so all of a lead's examples stay on one side. The candidates are fitted on the train split
    and compared on the calibration split only (:func:`~leadscore.models.decay.choose_decay`).
    """
    from leadscore.data.outcomes import OPEN
    from leadscore.features.activity import ActivityFeatureSpec
    from leadscore.features.intent_log import (
        AGE,
        AS_OF,
        WEIGHT,
        activity_features_config,
        activity_rows,
        candidate_spec,
        log_types,
        naive_columns,
        naive_rows,
        reference_date,
        row_columns,
        spec_to_dict,
    )
    from leadscore.features.snapshots import snapshots_by_age
    from leadscore.models.decay import candidate_columns, choose_decay

    cfg, id_col = params.activities, params.columns.id
    types = log_types(cfg, activities)
    now = reference_date(params, activities)
    snaps = snapshots_by_age(
        leads,
        columns=params.columns,
        reference_date=now,
        ages_days=cfg.snapshot_ages_days,
        closed_at=params.columns.closed_at or "closed_at",
        horizon_days=cfg.label_horizon_days,
        source=source,
    )
    lead_split = pd.Series(splits.to_numpy(), index=pd.Index(leads[id_col]))
    snap_split = pd.Series(lead_split.reindex(snaps[id_col]).to_numpy(), name="split")
    snap_split[snaps["is_open"].to_numpy()] = OPEN
    union = candidate_spec(cfg, types)
    rows = activity_rows(
        leads,
        activities,
        snaps[[id_col, AS_OF, AGE, WEIGHT]],
        params=params,
        spec=union,
        source=source,
        lead_columns=row_columns(params),
    )
    y = pd.Series(snaps["label"].to_numpy(), name="label")
    choice = choose_decay(
        rows,
        labels=y,
        splits=snap_split,
        weights=rows[WEIGHT],
        types=types,
        window_sets=cfg.window_candidates,
        half_life_sets=cfg.half_life_candidates,
        seed=params.train.seed,
    )
    chosen = ActivityFeatureSpec(
        types=types,
        windows_days=choice.windows_days,
        half_lives_days=choice.half_lives_days,
        momentum_days=cfg.momentum_days,
    )
    chosen_cols = candidate_columns(types, choice.windows_days, choice.half_lives_days)
    with_age = chosen.feature_names(with_lead_age=True)
    intent_cols = [c for c in with_age if c in chosen_cols and c in rows.columns]
    dropped = [c for c in union.feature_names() if c in rows.columns and c not in intent_cols]
    naive = naive_columns(types)
    rows = pd.concat([rows.drop(columns=dropped), naive_rows(activities, snaps, params=params, types=types)], axis=1)
    log.info(
        "activity log: %d snapshots of %d leads; windows %s d, half-lives %s d chosen on the calibration split",
        len(rows),
        rows[id_col].nunique(),
        "/".join(f"{w:g}" for w in choice.windows_days),
        "/".join(f"{h:g}" for h in choice.half_lives_days),
    )
    features = activity_features_config(
        params.features, intent=intent_cols, static_intent=cfg.static_intent, exclude=naive
    )
    table = choice.table.assign(
        windows_days=choice.table["windows_days"].map(list), half_lives_days=choice.table["half_lives_days"].map(list)
    )
    counts = (
        pd.DataFrame({"age_days": snaps[AGE], "split": snap_split})[~snaps["is_open"].to_numpy()]
        .groupby(["age_days", "split"])
        .size()
    )
    report = {
        "spec": spec_to_dict(chosen) | {"reference_date": str(now.date())},
        "types": list(types),
        "windows_days": list(choice.windows_days),
        "half_lives_days": list(choice.half_lives_days),
        "chosen_on": "calibration split (weighted log loss of a small LightGBM per candidate, fitted on train)",
        "decay_table": table.to_dict(orient="records"),
        "snapshot_ages_days": list(cfg.snapshot_ages_days),
        "snapshots": [
            {"age_days": float(age), "split": str(split), "rows": int(n)}
            for age, split, n in counts.reset_index(name="n").itertuples(index=False)
        ],
        "open_leads": int(snaps["is_open"].sum()),
        "naive": naive,
    }
    meta = rows[[AS_OF, AGE, WEIGHT]].copy()
    return SnapshotRows(rows.drop(columns=[AS_OF, AGE, WEIGHT]), y, snap_split, features, report, meta)


def is_activity_table(table: pd.DataFrame) -> bool:
    """A feature table made from snapshot rows (it carries ``as_of``)."""
    from leadscore.features.intent_log import AS_OF

    return AS_OF in table.columns


def table_rows(
    params: Params, *, leads: pd.DataFrame, table: pd.DataFrame, activities: Any, featurizer: LeadFeaturizer
) -> pd.DataFrame:
    """The scorer's input rows of a snapshot feature table, row-aligned with it (raw leads + log features).

    Raises
    ------
    DataValidationError
        If the featurizer was not fitted on an activity log (rerun featurize) or no log was passed.
    """
    from leadscore.errors import DataValidationError
    from leadscore.features.intent_log import AGE, AS_OF, WEIGHT, activity_rows, row_columns, spec_from_dict

    spec = getattr(featurizer, "activity_", None)
    if spec is None or activities is None:
        raise DataValidationError(
            "the feature tables hold activity snapshots but the model or the activity log is missing "
            "(rerun featurize; pass --activities)"
        )
    snaps = table[[params.columns.id, AS_OF, AGE, WEIGHT]]
    return activity_rows(
        leads, activities, snaps, params=params, spec=spec_from_dict(spec), lead_columns=row_columns(params)
    )


def open_leads_as_of(
    params: Params,
    *,
    raw: str | Path,
    activities: str | Path,
    featurizer: str | Path | LeadFeaturizer,
    as_of: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The open leads' scorer input rows as of a date: lead columns + point-in-time log features.

    Parameters
    ----------
    params : Params
        ``columns`` (id, created_at, status, closed_at) and ``activities`` (log column roles, limits).
    raw : path
        The raw lead table (generate's ``--leads-out``).
    activities : path
        The activity log (generate's ``--activities-out``).
    featurizer : path or LeadFeaturizer
        models/featurizer.json (or a loaded one, e.g. ``scorer.featurizer``): which features.
    as_of : date, optional
        Default: the reference date (params ``activities.reference_date``, the synthetic CRM's, or the
        day after the log's last event). Only events strictly before it count; leads created at or
        after it are left out; leads open in the export are the open ones.

    Returns
    -------
    DataFrame
        One row per open lead: the lead table's columns, ``as_of``, ``age_days`` (its current age),
        ``weight`` (1) and the features; what ``LeadScorer.predict`` reads.
    """
    from leadscore.errors import DataValidationError
    from leadscore.features.intent_log import AGE, AS_OF, WEIGHT, activity_rows, reference_date, spec_from_dict
    from leadscore.features.snapshots import snapshots_by_age
    from leadscore.models.persistence import load_featurizer
    from leadscore.pipeline.tables import read_raw_leads

    model = featurizer if not isinstance(featurizer, (str, Path)) else load_featurizer(featurizer)
    spec = getattr(model, "activity_", None)
    if spec is None:
        raise DataValidationError(
            f"{featurizer if isinstance(featurizer, (str, Path)) else 'featurizer'}: not fitted on an activity log "
            "(params activities.source was null when featurize ran)"
        )
    leads = read_raw_leads(params, raw)
    now = reference_date(params, str(activities)) if as_of is None else pd.Timestamp(as_of)
    if pd.isna(now):
        raise DataValidationError(f"--as-of must be a date like 2026-06-30, got {as_of!r}")
    snaps = snapshots_by_age(
        leads,
        columns=params.columns,
        reference_date=now,
        ages_days=params.activities.snapshot_ages_days,
        closed_at=params.columns.closed_at or "closed_at",
        as_of=now,
        source=str(raw),
    )
    snaps = snaps[snaps["is_open"].to_numpy()].reset_index(drop=True)
    return activity_rows(
        leads, str(activities), snaps[[params.columns.id, AS_OF, AGE, WEIGHT]], params=params, spec=spec_from_dict(spec)
    )
