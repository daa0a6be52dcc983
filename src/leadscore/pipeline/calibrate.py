"""Stage ``calibrate``: calibrated fit and intent models, the conversion model and quadrant thresholds,
packed with the featurizer and BANT rules into one scorer (what predict, batch scoring and MLflow serve)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

import typer

from leadscore.pipeline.common import DEFAULT_PARAMS, ParamsOpt, friendly, load, main, status

if TYPE_CHECKING:
    from leadscore.config import Params

log = logging.getLogger(__name__)


def run(
    params: Params,
    *,
    fit_features: str,
    intent_features: str,
    fit_model: str,
    intent_model: str,
    featurizer: str,
    scorer_out: str,
    audit: str | None = None,
) -> None:
    """Calibrate both models and fit the conversion model on the calibration split.

    ``audit`` (featurize's leak audit) decides, with each column's mean |SHAP| on the calibration
    split, which columns are never shown as reasons (:func:`~leadscore.features.leakage.uninformative_columns`);
    the list and ``explain.min_effect`` travel in the scorer's ``extras["explain"]``.
    An axis without columns gets threshold 0: every lead counts as high on it (it holds no one back).
    """
    import json
    from pathlib import Path

    import numpy as np

    from leadscore.data.contract import InputContract
    from leadscore.data.outcomes import CALIBRATION
    from leadscore.features.leakage import uninformative_columns
    from leadscore.io import read_table
    from leadscore.models.calibration import ConversionModel, calibrate_booster, score_threshold
    from leadscore.models.explain import feature_sources, mean_abs_effects
    from leadscore.models.persistence import load_booster, load_featurizer, save_scorer
    from leadscore.models.scorer import LeadScorer
    from leadscore.pipeline.tables import feature_matrix, rows_in

    fit_table, intent_table = read_table(fit_features), read_table(intent_features)
    cal = rows_in(fit_table, CALIBRATION)
    y_cal = fit_table.loc[cal, "label"].astype(int)
    id_col, method = params.columns.id, params.calibrate.method
    X_fit = feature_matrix(fit_table, id_col)[cal]
    X_intent = feature_matrix(intent_table, id_col)[cal]
    fit_cal = calibrate_booster(load_booster(fit_model), X_fit, y_cal, method=method)
    intent_cal = calibrate_booster(load_booster(intent_model), X_intent, y_cal, method=method)
    p_fit = fit_cal.predict_proba(X_fit)[:, 1]
    p_intent = intent_cal.predict_proba(X_intent)[:, 1]
    conversion = ConversionModel().fit(np.column_stack([p_fit, p_intent]), y_cal)
    fitted = load_featurizer(featurizer)
    thresholds = {
        "fit": score_threshold(p_fit, y_cal.to_numpy(), params.quadrants.fit),
        "intent": score_threshold(p_intent, y_cal.to_numpy(), params.quadrants.intent),
    }
    for group in fitted.empty_groups:
        thresholds[group] = 0.0
    sources = feature_sources(fitted)
    importance = {
        group: {str(k): float(v) for k, v in mean_abs_effects(model, X, sources).items()}
        for group, model, X in (("fit", fit_cal, X_fit), ("intent", intent_cal, X_intent))
    }
    audit_report = json.loads(Path(audit).read_text()) if audit else {}
    min_effect = params.explain.min_effect
    uninformative = uninformative_columns(audit_report, importance, min_effect=min_effect)
    explain_extras = {"min_effect": min_effect, "uninformative": uninformative}
    # The contract featurize learned, with params `contract` as its policies, travels in the scorer.
    contract = getattr(fitted, "contract_", None)
    extras: dict = {"explain": explain_extras}
    if contract:
        extras["contract"] = InputContract.from_dict(contract).with_policy(params.contract).to_dict()
    scorer = LeadScorer(
        id_column=id_col,
        featurizer=fitted,
        fit_model=fit_cal,
        intent_model=intent_cal,
        conversion_model=conversion,
        fit_threshold=thresholds["fit"],
        intent_threshold=thresholds["intent"],
        bant=params.bant,
        explain_top_k=params.explain.top_k,
        extras=extras,
    )
    # One JSON file; display text (labels, actions) is not part of the model: predict attaches it.
    save_scorer(scorer, scorer_out)
    log.info("thresholds: fit > %.3f, intent > %.3f", scorer.fit_threshold, scorer.intent_threshold)
    if uninformative:
        log.info("never shown as reasons (uninformative): %s", ", ".join(uninformative))


@friendly
def command(
    fit_features: Annotated[str, typer.Option()],
    intent_features: Annotated[str, typer.Option()],
    fit_model: Annotated[str, typer.Option()],
    intent_model: Annotated[str, typer.Option()],
    featurizer: Annotated[str, typer.Option()],
    scorer_out: Annotated[str, typer.Option(help="composite lead scorer to write")],
    audit: Annotated[str | None, typer.Option(help="featurize's leak audit (uninformative columns)")] = None,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> None:
    """Calibrate both models, fit the conversion model and set quadrant thresholds."""
    with status("calibrating"):
        run(
            load(params),
            fit_features=fit_features,
            intent_features=intent_features,
            fit_model=fit_model,
            intent_model=intent_model,
            featurizer=featurizer,
            scorer_out=scorer_out,
            audit=audit,
        )


if __name__ == "__main__":
    main(command)
