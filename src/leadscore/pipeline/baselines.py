"""Stage ``baselines``: the learned scorers the model is benchmarked against, scored on the test split.

One LightGBM on fit and intent features together and a logistic regression on all features, both
trained on the train split (early stopping on the early-stopping split) and calibrated on the
calibration split, exactly like the main models. Test labels are never read here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadscore.pipeline.common import DEFAULT_PARAMS, ParamsOpt, friendly, load, main, status

if TYPE_CHECKING:
    import pandas as pd

    from leadscore.config import Params

log = logging.getLogger(__name__)


def run(params: Params, *, fit_features: str, intent_features: str, scores_out: str) -> None:
    """Write ``[id, lightgbm_all_probability, logistic_probability]`` for every test lead."""
    import pandas as pd

    from leadscore.data.outcomes import TEST
    from leadscore.errors import DataValidationError
    from leadscore.io import read_table, write_table
    from leadscore.pipeline.tables import rows_in

    fit_table, intent_table = read_table(fit_features), read_table(intent_features)
    id_col = params.columns.id
    if not fit_table[id_col].equals(intent_table[id_col]):
        raise DataValidationError(f"{fit_features} and {intent_features} list different leads (rerun featurize)")
    models, X = train_baselines(params, fit_table=fit_table, intent_table=intent_table)
    lightgbm_all, logistic = models["lightgbm_all"], models["logistic"]
    part = {TEST: rows_in(fit_table, TEST)}
    X_test = X[part[TEST]]
    scores = pd.DataFrame(
        {
            id_col: fit_table.loc[part[TEST], id_col].to_numpy(),
            "lightgbm_all_probability": lightgbm_all.predict_proba(X_test)[:, 1],
            "logistic_probability": logistic.predict_proba(X_test)[:, 1],
        }
    )
    if "as_of" in fit_table.columns:  # issue 14: activity snapshots; a lead has one row per age
        scores["as_of"] = fit_table.loc[part[TEST], "as_of"].to_numpy()
    write_table(scores, scores_out)
    log.info("baselines scored %d test leads", len(scores))


def train_baselines(
    params: Params, *, fit_table: pd.DataFrame, intent_table: pd.DataFrame, logistic: bool = True
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The all-features LightGBM (and, with ``logistic``, the logistic regression) trained and
    calibrated like the main models on the tables' splits (pure: the stage and the backtest call it).

    Returns ``({"lightgbm_all": model, "logistic": model}, X)``, X being both tables' features side by side.
    """
    import pandas as pd

    from leadscore.data.outcomes import CALIBRATION, EARLY_STOPPING, TRAIN
    from leadscore.evaluation.baselines import (
        all_features_lightgbm_config,
        train_all_features_lightgbm,
        train_logistic,
    )
    from leadscore.pipeline.tables import feature_matrix, row_weights, rows_in

    id_col = params.columns.id
    X = pd.concat([feature_matrix(fit_table, id_col), feature_matrix(intent_table, id_col)], axis=1)
    y = fit_table["label"]
    part = {name: rows_in(fit_table, name) for name in (TRAIN, EARLY_STOPPING, CALIBRATION)}
    method = params.calibrate.method
    # Activity snapshots: each lead's rows weigh one in total, as for the fit and intent models, so a
    # lead open for long (many snapshots) does not count more in the baselines than in the model.
    w = row_weights(fit_table)
    models: dict[str, Any] = {}
    models["lightgbm_all"] = train_all_features_lightgbm(
        X[part[TRAIN]],
        y[part[TRAIN]],
        X[part[EARLY_STOPPING]],
        y[part[EARLY_STOPPING]],
        X[part[CALIBRATION]],
        y[part[CALIBRATION]],
        params=all_features_lightgbm_config(params.train.fit, params.train.intent),
        early_stopping_rounds=params.train.early_stopping_rounds,
        seed=params.train.seed,
        calibration_method=method,
        n_jobs=params.train.n_jobs,
        weights=None if w is None else (w[part[TRAIN]], w[part[EARLY_STOPPING]], w[part[CALIBRATION]]),
    )
    if logistic:
        models["logistic"] = train_logistic(
            X[part[TRAIN]],
            y[part[TRAIN]],
            X[part[CALIBRATION]],
            y[part[CALIBRATION]],
            C=params.evaluate.logistic_c,
            seed=params.train.seed,
            calibration_method=method,
            weights=None if w is None else (w[part[TRAIN]], w[part[CALIBRATION]]),
        )
    return models, X


@friendly
def command(
    fit_features: Annotated[str, typer.Option()],
    intent_features: Annotated[str, typer.Option()],
    scores_out: Annotated[str, typer.Option(help="test-split probabilities of the baselines to write")],
    params: ParamsOpt = DEFAULT_PARAMS,
) -> None:
    """Train the all-features LightGBM and the logistic regression; score the test split."""
    with status("training the baselines"):
        run(load(params), fit_features=fit_features, intent_features=intent_features, scores_out=scores_out)


if __name__ == "__main__":
    main(command)
