"""Stage ``calibrate``: calibrated fit and intent models, the conversion model and quadrant thresholds,
packed with the featurizer and BANT rules into one scorer (what predict, batch scoring and MLflow serve)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadscore.pipeline.common import DEFAULT_PARAMS, ParamsOpt, friendly, load, main, status

if TYPE_CHECKING:
    import pandas as pd

    from leadscore.config import Params
    from leadscore.features.build import LeadFeaturizer
    from leadscore.models.scorer import LeadScorer

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
    raw: str | None = None,
    audit: str | None = None,
    activities: str | None = None,
) -> None:
    """Calibrate both models and fit the conversion model on the calibration split.

    ``activities`` (issue 14): the activity log, read when the tables hold activity snapshots (the
    drift reference is then taken on the calibration snapshots' rows).

    With ``raw`` (the raw lead table), the scorer also stores the drift reference of every input column
    and of its three probabilities on the calibration leads (``extras["drift_reference"]``).

    ``audit`` (featurize's leak audit) decides, with each column's mean |SHAP| on the calibration
    split, which columns are never shown as reasons (:func:`~leadscore.features.leakage.uninformative_columns`);
    the list and ``explain.min_effect`` travel in the scorer's ``extras["explain"]``.
    """
    import json
    from pathlib import Path

    from leadscore.data.outcomes import CALIBRATION
    from leadscore.errors import DataValidationError
    from leadscore.io import read_table
    from leadscore.models.persistence import load_booster, load_featurizer, save_scorer
    from leadscore.pipeline.tables import rows_in

    fit_table, intent_table = read_table(fit_features), read_table(intent_features)
    id_col = params.columns.id
    leads = None
    if raw is not None:
        from leadscore.pipeline.tables import read_raw_leads

        leads = read_raw_leads(params, raw)
        from leadscore.pipeline.activity import is_activity_table, table_rows

        if is_activity_table(fit_table):
            leads = table_rows(
                params, leads=leads, table=fit_table, activities=activities, featurizer=load_featurizer(featurizer)
            )
        if not leads[id_col].reset_index(drop=True).equals(fit_table[id_col].reset_index(drop=True)):
            raise DataValidationError(f"{raw}: its {id_col!r} column does not match {fit_features}'s (rerun featurize)")
    order = None
    if params.calibrate.window.method != "split":
        from leadscore.data.outcomes import lead_order

        if leads is None:
            raise DataValidationError("params calibrate.window: pass --raw (the leads' time order)")
        order = lead_order(leads, split=params.split, columns=params.columns, source=raw or "raw leads")
    from leadscore.models.training import lightgbm_threads

    with lightgbm_threads(params.train.n_jobs):  # LightGBM predicts on train.n_jobs threads here too
        scorer = build_scorer(
            params,
            fit_table=fit_table,
            intent_table=intent_table,
            fit_model=load_booster(fit_model),
            intent_model=load_booster(intent_model),
            featurizer=load_featurizer(featurizer),
            order=order,
            audit=json.loads(Path(audit).read_text()) if audit else None,
        )
        cal = rows_in(fit_table, CALIBRATION)
        if leads is not None:
            # Issue 11: what "normal" looks like for predict / `leadscore score` / `leadscore drift`.
            from leadscore.monitoring.drift import reference_for_scorer

            scorer.extras["drift_reference"] = reference_for_scorer(
                scorer, leads[cal], config=params.drift, source=f"{raw} (calibration split)"
            )
    # One JSON file; display text (labels, actions) is not part of the model: predict attaches it.
    save_scorer(scorer, scorer_out)
    log.info("thresholds: fit > %.3f, intent > %.3f", scorer.fit_threshold, scorer.intent_threshold)
    uninformative = scorer.extras["explain"]["uninformative"]
    if uninformative:
        log.info("never shown as reasons (uninformative): %s", ", ".join(uninformative))


def build_scorer(
    params: Params,
    *,
    fit_table: pd.DataFrame,
    intent_table: pd.DataFrame,
    fit_model: Any,
    intent_model: Any,
    featurizer: LeadFeaturizer,
    order: pd.Series | None = None,
    audit: dict | None = None,
    explanations: bool = True,
) -> LeadScorer:
    """Calibrate both boosters and fit the conversion model and thresholds on the tables' calibration
    split; pack it all into a :class:`LeadScorer` (pure: the stage and the backtest call it).

    With params ``calibrate.window`` other than ``split``, only the most recent calibration leads are
    used (:func:`~leadscore.data.outcomes.calibration_window`); ``order`` is then every row's place in
    time (:func:`~leadscore.data.outcomes.lead_order`, row-aligned with the tables).

    ``audit`` (featurize's leak audit, a dict) decides, with each column's mean |SHAP| on the
    calibration leads, which columns are never shown as reasons; the list and ``explain.min_effect``
    travel in ``extras["explain"]``. The contract featurize learned (``featurizer.contract_``), with
    params ``contract`` as its policies, travels in ``extras["contract"]``.
    The conversion model is chosen among params ``calibrate.conversion_candidates`` by out-of-fold log
    loss on the calibration leads (:func:`~leadscore.models.calibration.select_conversion_model`); the
    choice and each candidate's numbers travel in ``extras["conversion_selection"]``.
    An axis without columns gets threshold 0: every lead counts as high on it (it holds no one back).
    ``explanations=False`` skips the |SHAP| summary behind ``extras["explain"]`` (the backtest, which
    never explains a lead, saves its cost; the scores are the same).
    """
    import numpy as np
    import pandas as pd

    from leadscore.data.contract import InputContract
    from leadscore.data.outcomes import CALIBRATION, calibration_window
    from leadscore.errors import DataValidationError
    from leadscore.features.leakage import uninformative_columns
    from leadscore.models.calibration import (
        calibrate_booster,
        conversion_inputs,
        score_threshold,
        select_conversion_model,
    )
    from leadscore.models.explain import feature_sources, mean_abs_effects
    from leadscore.models.scorer import LeadScorer
    from leadscore.pipeline.tables import feature_matrix, row_weights, rows_in

    cal = rows_in(fit_table, CALIBRATION)
    window = params.calibrate.window
    if window.method != "split":
        if order is None:
            raise DataValidationError("params calibrate.window needs the leads' time order (pass the raw leads)")
        cal = calibration_window(
            fit_table["split"], order.reset_index(drop=True), method=window.method, value=window.value
        )
        labels = fit_table.loc[cal, "label"]
        if cal.sum() < 50 or labels.nunique() < 2:
            raise DataValidationError(
                f"params calibrate.window ({window.method} {window.value:g}) leaves {int(cal.sum())} calibration "
                f"leads with {int(labels.sum())} wins; widen it (at least 50 leads with both outcomes)"
            )
        log.info(
            "calibrating on the most recent %d of %d calibration leads",
            cal.sum(),
            rows_in(fit_table, CALIBRATION).sum(),
        )
    y_cal = fit_table.loc[cal, "label"].astype(int)
    id_col, method = params.columns.id, params.calibrate.method
    X_fit = feature_matrix(fit_table, id_col)[cal]
    X_intent = feature_matrix(intent_table, id_col)[cal]
    weights = row_weights(fit_table)  # activity snapshots: each lead weighs one in total
    w_cal = None if weights is None else weights[np.asarray(cal)]
    fit_cal = calibrate_booster(fit_model, X_fit, y_cal, method=method, sample_weight=w_cal)
    intent_cal = calibrate_booster(intent_model, X_intent, y_cal, method=method, sample_weight=w_cal)
    p_fit = fit_cal.predict_proba(X_fit)[:, 1]
    p_intent = intent_cal.predict_proba(X_intent)[:, 1]
    # Issue 15: the conversion model with the lowest out-of-fold log loss on the calibration leads
    # (only the logistic form by default: then no cross-validation runs).
    # segment_spline may read the categorical fit features (which ones it keeps is chosen by the folds).
    segments = (
        [c for c in X_fit.columns if isinstance(X_fit[c].dtype, pd.CategoricalDtype)]
        if "segment_spline" in params.calibrate.conversion_candidates
        else []
    )
    inputs = conversion_inputs(p_fit, p_intent, X_fit, segments=segments)
    conversion, selection = select_conversion_model(
        inputs,
        y_cal,
        candidates=params.calibrate.conversion_candidates,
        folds=params.calibrate.conversion_folds,
        sample_weight=w_cal,
    )
    if selection["chosen"] == "segment_spline":
        # What each segment level adds beyond the fit and intent scores: shown on the benchmark page.
        selection["segment_effects"] = conversion.segment_effects(inputs, sample_weight=w_cal)
    if selection["candidates"]:
        log.info(
            "conversion model: %s (out-of-fold log loss on the calibration split: %s)",
            selection["chosen"],
            ", ".join(f"{k} {v['cv_log_loss']:.5f}" for k, v in selection["candidates"].items()),
        )
        if "segment_spline" in selection["candidates"]:
            log.info("segment_spline segments: %s", selection["candidates"]["segment_spline"]["segments"] or "none")
    thresholds = {
        "fit": score_threshold(p_fit, y_cal.to_numpy(), params.quadrants.fit),
        "intent": score_threshold(p_intent, y_cal.to_numpy(), params.quadrants.intent),
    }
    for group in featurizer.empty_groups:
        thresholds[group] = 0.0
    extras: dict = {}
    if explanations:
        sources = feature_sources(featurizer)
        importance = {
            group: {str(k): float(v) for k, v in mean_abs_effects(model, X, sources).items()}
            for group, model, X in (("fit", fit_cal, X_fit), ("intent", intent_cal, X_intent))
        }
        min_effect = params.explain.min_effect
        uninformative = uninformative_columns(audit or {}, importance, min_effect=min_effect)
        extras["explain"] = {"min_effect": min_effect, "uninformative": uninformative}
    # The contract featurize learned, with params `contract` as its policies, travels in the scorer.
    contract = getattr(featurizer, "contract_", None)
    extras["conversion_selection"] = selection
    if contract:
        extras["contract"] = InputContract.from_dict(contract).with_policy(params.contract).to_dict()
    return LeadScorer(
        id_column=id_col,
        featurizer=featurizer,
        fit_model=fit_cal,
        intent_model=intent_cal,
        conversion_model=conversion,
        fit_threshold=thresholds["fit"],
        intent_threshold=thresholds["intent"],
        bant=params.bant,
        explain_top_k=params.explain.top_k,
        extras=extras,
    )


@friendly
def command(
    fit_features: Annotated[str, typer.Option()],
    intent_features: Annotated[str, typer.Option()],
    fit_model: Annotated[str, typer.Option()],
    intent_model: Annotated[str, typer.Option()],
    featurizer: Annotated[str, typer.Option()],
    scorer_out: Annotated[str, typer.Option(help="composite lead scorer to write")],
    raw: Annotated[str | None, typer.Option(help="raw lead table: drift reference of the calibration leads")] = None,
    audit: Annotated[str | None, typer.Option(help="featurize's leak audit (uninformative columns)")] = None,
    activities: Annotated[str | None, typer.Option(help="activity log (activity snapshot tables only)")] = None,
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
            raw=raw,
            audit=audit,
            activities=activities,
        )


if __name__ == "__main__":
    main(command)
