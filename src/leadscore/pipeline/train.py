"""Stages ``train_fit`` and ``train_intent``: one LightGBM model per feature group, on the train split."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadscore.errors import LeadscoreError
from leadscore.pipeline.common import DEFAULT_PARAMS, ParamsOpt, console, friendly, load, main

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from leadscore.config import LightGBMConfig, Params
    from leadscore.models.tuning import Fold, TuningResult

log = logging.getLogger(__name__)
GROUPS = ("fit", "intent")


def run(
    params: Params,
    *,
    group: str,
    features: str,
    model_out: str,
    raw: str | None = None,
    tuning_out: str | None = None,
    fit_model: str | None = None,
    fit_features: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Train the ``group`` ("fit" or "intent") model with early stopping on the early-stopping split.

    The intent model, with params ``train.intent_given_fit``, boosts from the fit model's log-odds
    (``fit_model``, scored on ``fit_features``): it learns what engagement adds for a lead of that
    fit (see :func:`fit_offset`).

    With params ``train.tune.enabled`` its LightGBM parameters are searched first on time-ordered folds
    of the train split (``raw``: the raw leads, for their time order) and the best ones train the model;
    ``tuning_out`` gets the search (or, tuning off, the parameters used as configured).
    """
    from leadscore.io import read_table, write_json
    from leadscore.models.persistence import save_booster

    if group not in GROUPS:
        raise LeadscoreError(f"--group must be 'fit' or 'intent', got {group!r}")
    table = read_table(features)
    offset = fit_table = None
    if group == "intent" and params.train.intent_given_fit:
        from leadscore.models.persistence import load_booster

        if fit_model is None or fit_features is None:
            raise LeadscoreError(
                "params train.intent_given_fit is true: the intent model needs --fit-model and --fit-features"
            )
        fit_table = read_table(fit_features)
        offset = intent_offset(params, fit_model=load_booster(fit_model), fit_table=fit_table, table=table)
    report: dict[str, Any] = {
        "group": group,
        "enabled": False,
        "params": getattr(params.train, group).model_dump(mode="json"),
        "note": "params train.tune.enabled is false: the configured parameters were used as they are",
    }
    lightgbm = None
    if params.train.tune.enabled:
        from leadscore.pipeline.tables import read_raw_leads

        if raw is None:
            raise LeadscoreError(
                "params train.tune is enabled: the train stage needs --raw (the raw leads' time order)"
            )
        result = tune_group(
            params,
            group=group,
            table=table,
            leads=read_raw_leads(params, raw),
            offset=offset,
            fit_table=fit_table,
            progress=progress,
        )
        lightgbm = result.config
        report = {"group": group, **result.to_dict()}
        log.info(
            "%s model tuned: %d trials, fold log loss %.4f (configured %.4f), best %s",
            group,
            len(result.trials),
            result.best_value,
            result.configured_value,
            result.best_params,
        )
    model = train_group(params, group=group, table=table, lightgbm=lightgbm, offset=offset)
    save_booster(model, model_out)  # LightGBM's own text format: data, not a pickle
    report["offset"] = "the fit model's log-odds (params train.intent_given_fit)" if offset is not None else None
    if offset is not None and report.get("enabled"):
        report["fold_offsets"] = (
            "each tuning fold boosted from a fit model trained on that fold's training leads only "
            "(params train.fit as configured), never on its validation block's outcomes"
        )
    if tuning_out:
        write_json(report, tuning_out)
    log.info("%s model: %d trees (early stopping)", group, model.best_iteration_ or model.n_estimators)


def tune_group(
    params: Params,
    *,
    group: str,
    table: pd.DataFrame,
    leads: pd.DataFrame,
    offset: Any = None,
    fit_table: pd.DataFrame | None = None,
    progress: Callable[[str], None] | None = None,
) -> TuningResult:
    """Search the ``group`` model's LightGBM parameters on time-ordered folds of ``table``'s train split
    (pure: ``leads`` are the raw leads, row-aligned with ``table``, for their time order; ``offset``:
    as for :func:`train_group`).

    With an ``offset`` and the ``fit_table`` it came from (the intent model given fit), each fold boosts
    from the log-odds of a fit model trained on that fold's training leads only
    (:func:`fold_fit_offsets`): the final fit model has seen every fold's validation outcomes, and
    scoring the folds with its log-odds would flatter them."""
    import pandas as pd

    from leadscore.data.outcomes import lead_order
    from leadscore.errors import DataValidationError
    from leadscore.models.tuning import tune_lightgbm
    from leadscore.pipeline.tables import feature_matrix

    id_col = params.columns.id
    if not leads[id_col].reset_index(drop=True).equals(table[id_col].reset_index(drop=True)):
        raise DataValidationError(
            f"train: the feature table's {id_col!r} does not match the raw leads' (rerun featurize)"
        )
    order = lead_order(leads, split=params.split, columns=params.columns, source="raw leads")
    tune = params.train.tune

    def on_trial(number: int, value: float, best: float) -> None:
        if progress is not None:
            progress(f"tuning the {group} model: trial {number + 1}/{tune.n_trials}, best fold log loss {best:.4f}")

    if offset is not None and fit_table is not None:
        offset = fold_fit_offsets(params, fit_table=fit_table, table=table)
    return tune_lightgbm(
        feature_matrix(table, id_col),
        table["label"],
        splits=table["split"],
        order=pd.Series(order.to_numpy(), index=table.index),
        base=getattr(params.train, group),
        tune=tune,
        early_stopping_rounds=params.train.early_stopping_rounds,
        early_stopping_share=params.split.early_stopping,
        seed=params.train.seed,
        offset=offset,
        on_trial=on_trial,
    )


def fold_fit_offsets(params: Params, *, fit_table: pd.DataFrame, table: pd.DataFrame) -> Callable[[Fold], Any]:
    """Per tuning fold of ``table`` (the intent table), the log-odds of a fit model trained on the leads
    of that fold's training rows and early-stopped on those of its early-stopping rows, for every
    training-period row of ``table`` (numpy, as :func:`fit_offset`). The fit model uses params
    ``train.fit`` as configured (pure)."""
    from leadscore.models.training import train_lightgbm
    from leadscore.pipeline.tables import feature_matrix

    id_col = params.columns.id
    X_fit = feature_matrix(fit_table, id_col)

    def offset(fold: Fold) -> Any:
        fit_ids = set(table.loc[fold.fit, id_col])
        stop_ids = set(table.loc[fold.stop, id_col]) - fit_ids  # a lead straddling the cut trains
        fit_rows = fit_table[id_col].isin(fit_ids).to_numpy()
        stop_rows = fit_table[id_col].isin(stop_ids).to_numpy()
        model = train_lightgbm(
            X_fit[fit_rows],
            fit_table.loc[fit_rows, "label"],
            X_fit[stop_rows],
            fit_table.loc[stop_rows, "label"],
            params=params.train.fit,
            early_stopping_rounds=params.train.early_stopping_rounds,
            seed=params.train.seed,
            n_jobs=params.train.n_jobs,
        )
        return fit_offset(model, fit_table=fit_table, table=table, id_column=id_col)

    return offset


def intent_offset(params: Params, *, fit_model: Any, fit_table: pd.DataFrame, table: pd.DataFrame) -> Any:
    """What the intent model boosts from: :func:`fit_offset` with params ``train.intent_given_fit``, else None
    (pure: the train stage and the backtest call it)."""
    if not params.train.intent_given_fit:
        return None
    return fit_offset(fit_model, fit_table=fit_table, table=table, id_column=params.columns.id)


def fit_offset(fit_model: Any, *, fit_table: pd.DataFrame, table: pd.DataFrame, id_column: str) -> Any:
    """The fit model's log-odds for each training-period row of ``table`` (numpy), matched by lead id (pure).

    The intent model boosts from these (params ``train.intent_given_fit``): trained alone it would
    also learn fit, through intent columns that go with it (better-fit leads engage more), and the
    conversion model would count fit twice. Rows of an activity-snapshot table share their lead's value.
    Rows outside the train and early-stopping splits are NaN: nothing trains on them (and scoring
    every lead would cost the backtest a prediction over its whole history each month).

    Raises
    ------
    DataValidationError
        If a row of ``table`` has no lead in ``fit_table`` (the two come from one featurize run).
    """
    import numpy as np
    import pandas as pd

    from leadscore.data.outcomes import TRAINING_SPLITS
    from leadscore.errors import DataValidationError
    from leadscore.pipeline.tables import feature_matrix

    fit_rows = fit_table["split"].isin(TRAINING_SPLITS).to_numpy()
    margin = pd.Series(
        np.asarray(fit_model.predict(feature_matrix(fit_table[fit_rows], id_column), raw_score=True), dtype=float),
        index=fit_table.loc[fit_rows, id_column].to_numpy(),
    )
    margin = margin[~margin.index.duplicated()]
    rows = table["split"].isin(TRAINING_SPLITS).to_numpy()
    values = np.full(len(table), np.nan)
    found = margin.reindex(table.loc[rows, id_column].to_numpy())
    if found.isna().any():
        raise DataValidationError(
            f"train: {int(found.isna().sum())} rows of the intent table have no {id_column!r} in the fit table "
            "(they come from one featurize run: rerun featurize)"
        )
    values[rows] = found.to_numpy()
    return values


def train_group(
    params: Params,
    *,
    group: str,
    table: pd.DataFrame,
    lightgbm: LightGBMConfig | None = None,
    offset: Any = None,
) -> Any:
    """The ``group`` model on ``table``'s train split, early-stopped on its early-stopping split (pure:
    the stage and the backtest call it). ``lightgbm``: these parameters instead of params' (tuned).
    ``offset``: log-odds per row of ``table`` the model boosts from (:func:`fit_offset`), or None."""
    from leadscore.data.outcomes import EARLY_STOPPING, TRAIN
    from leadscore.models.training import train_lightgbm
    from leadscore.pipeline.tables import feature_matrix, row_weights, rows_in

    X = feature_matrix(table, params.columns.id)
    fit_rows, stop_rows = rows_in(table, TRAIN), rows_in(table, EARLY_STOPPING)
    weights = row_weights(table)  # activity snapshots: each lead weighs one in total
    return train_lightgbm(
        X[fit_rows],
        table.loc[fit_rows, "label"],
        X[stop_rows],
        table.loc[stop_rows, "label"],
        params=lightgbm or getattr(params.train, group),
        early_stopping_rounds=params.train.early_stopping_rounds,
        seed=params.train.seed,
        sample_weight=None if weights is None else weights[fit_rows],
        eval_sample_weight=None if weights is None else weights[stop_rows],
        init_score=None if offset is None else offset[fit_rows],
        eval_init_score=None if offset is None else offset[stop_rows],
        n_jobs=params.train.n_jobs,
    )


@friendly
def command(
    group: Annotated[str, typer.Option(help="fit or intent")],
    features: Annotated[str, typer.Option(help="that group's feature table")],
    model_out: Annotated[str, typer.Option(help="model file to write")],
    raw: Annotated[str | None, typer.Option(help="raw leads: their time order, for train.tune's folds")] = None,
    tuning_out: Annotated[str | None, typer.Option(help="tuning report to write (JSON)")] = None,
    fit_model: Annotated[
        str | None, typer.Option(help="intent only: the fit model it boosts from (train.intent_given_fit)")
    ] = None,
    fit_features: Annotated[str | None, typer.Option(help="intent only: the fit feature table")] = None,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> None:
    """Train the fit or the intent LightGBM model on the train split (tuned first with train.tune)."""
    with console.status(f"training the {group} model") as spinner:
        run(
            load(params),
            group=group,
            features=features,
            model_out=model_out,
            raw=raw,
            tuning_out=tuning_out,
            fit_model=fit_model,
            fit_features=fit_features,
            progress=spinner.update,
        )


if __name__ == "__main__":
    main(command)
