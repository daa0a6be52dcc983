"""Stages ``train_fit`` and ``train_intent``: one LightGBM model per feature group, on the train split."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadscore.errors import LeadscoreError
from leadscore.pipeline.common import DEFAULT_PARAMS, ParamsOpt, friendly, load, main, status

if TYPE_CHECKING:
    import pandas as pd

    from leadscore.config import Params

log = logging.getLogger(__name__)
GROUPS = ("fit", "intent")


def run(params: Params, *, group: str, features: str, model_out: str) -> None:
    """Train the ``group`` ("fit" or "intent") model with early stopping on the early-stopping split."""
    from leadscore.io import read_table
    from leadscore.models.persistence import save_booster

    if group not in GROUPS:
        raise LeadscoreError(f"--group must be 'fit' or 'intent', got {group!r}")
    model = train_group(params, group=group, table=read_table(features))
    save_booster(model, model_out)  # LightGBM's own text format: data, not a pickle
    log.info("%s model: %d trees (early stopping)", group, model.best_iteration_ or model.n_estimators)


def train_group(params: Params, *, group: str, table: pd.DataFrame) -> Any:
    """The ``group`` model on ``table``'s train split, early-stopped on its early-stopping split (pure:
    the stage and the backtest call it)."""
    from leadscore.data.outcomes import EARLY_STOPPING, TRAIN
    from leadscore.models.training import train_lightgbm
    from leadscore.pipeline.tables import feature_matrix, rows_in

    X = feature_matrix(table, params.columns.id)
    fit_rows, stop_rows = rows_in(table, TRAIN), rows_in(table, EARLY_STOPPING)
    return train_lightgbm(
        X[fit_rows],
        table.loc[fit_rows, "label"],
        X[stop_rows],
        table.loc[stop_rows, "label"],
        params=getattr(params.train, group),
        early_stopping_rounds=params.train.early_stopping_rounds,
        seed=params.train.seed,
        n_jobs=params.train.n_jobs,
    )


@friendly
def command(
    group: Annotated[str, typer.Option(help="fit or intent")],
    features: Annotated[str, typer.Option(help="that group's feature table")],
    model_out: Annotated[str, typer.Option(help="model file to write")],
    params: ParamsOpt = DEFAULT_PARAMS,
) -> None:
    """Train the fit or the intent LightGBM model on the train split."""
    with status(f"training the {group} model"):
        run(load(params), group=group, features=features, model_out=model_out)


if __name__ == "__main__":
    main(command)
