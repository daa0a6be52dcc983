"""Stage ``featurize``: labels, the minimum-data guard, the split, the leak audit, fit and intent features."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import pandas as pd
import typer

from leadscore.pipeline.common import DEFAULT_PARAMS, ParamsOpt, friendly, load, main, status

if TYPE_CHECKING:
    from leadscore.config import Params
    from leadscore.features.build import LeadFeaturizer

log = logging.getLogger(__name__)


class Featurized(NamedTuple):
    """What featurize learns from a lead table: labels, splits, the audit and the fitted featurizer."""

    labels: pd.Series
    splits: pd.Series
    audit: dict
    featurizer: LeadFeaturizer
    fit_table: pd.DataFrame  # id, split, label + fit features
    intent_table: pd.DataFrame  # id, split, label + intent features
    stop_message: str | None  # the leak policy stopped the run (on_suspected_leak: fail, or a strong leak)


def featurize_leads(
    params: Params,
    leads: pd.DataFrame,
    *,
    source: str,
    labels: pd.Series | None = None,
    activities: Any = None,
    leak_audit: bool = True,
) -> Featurized:
    """Label and split leads, check there is enough data, audit for leaks, learn the featurizer (and
    the input contract) on training leads and build both feature tables (pure: the stage and the
    backtest call it).

    ``labels``: outcomes to use instead of the status column's (the backtest passes the outcomes
    known at its cut-off).

    ``activities`` (issue 14; a log path or table, used when params ``activities.source`` is set):
    the rows become snapshots by lead age (:mod:`leadscore.features.intent_log`) and intent comes
    from the log as of each snapshot; each lead's rows stay in its split and weigh one in total.

    ``leak_audit=False`` skips the single-column AUC audit (the backtest, under ``on_suspected_leak:
    warn``, where it cannot change the features); the audit then says ``"skipped"``.
    """
    from leadscore.data.contract import learn_contract
    from leadscore.data.guards import check_minimum_data
    from leadscore.data.outcomes import TRAIN, TRAINING_SPLITS, assign_splits, effective_split, outcome_labels
    from leadscore.features.build import LeadFeaturizer, check_monotone
    from leadscore.features.leakage import LeakDecision, apply_leak_policy, feature_audit

    labels = outcome_labels(leads, params.columns, source=source) if labels is None else labels
    data_check = check_minimum_data(labels, params.guards, source=source)
    for warning in data_check["warnings"]:
        log.warning(warning)
    splits = assign_splits(leads, labels, split=params.split, columns=params.columns, source=source)
    split_description = effective_split(params.split, params.columns)
    log.info("split: %s", split_description)
    features, activity_report, meta_extra = params.features, None, None
    if activities is not None and params.activities.source is not None:
        from leadscore.pipeline.activity import snapshot_training_rows

        built = snapshot_training_rows(params, leads, labels, splits, activities=activities, source=source)
        leads, labels, splits = built.rows, built.labels, built.splits
        features, activity_report, meta_extra = built.features, built.report, built.meta
    audit: dict[str, Any] = {"data": data_check, "split_method": split_description, "split": TRAIN}
    if leak_audit:
        audit |= feature_audit(
            leads,
            labels,
            (splits == TRAIN).to_numpy(),
            features=features,
            missing_values=params.data.missing_values,
            seed=params.split.seed,
        )
        if activity_report is not None:
            audit["activity"] = activity_report | {
                "naive_flagged": [
                    a["column"]
                    for a in audit["columns"]
                    if a["suspected_leak"] and a["column"] in activity_report["naive"]
                ]
            }
        decision = apply_leak_policy(audit, features, source=source)
        audit["dropped_leaks"] = list(decision.dropped)
    else:
        audit["skipped"] = "leak audit not run (leak_audit=False)"
        decision = LeakDecision(features=features, message=None, stop=False)
    featurizer = LeadFeaturizer(features=decision.features, missing_values=params.data.missing_values)
    if decision.stop:
        empty = pd.DataFrame()
        return Featurized(labels, splits, audit, featurizer, empty, empty, str(decision.message))
    if decision.message:
        log.warning(decision.message)
    training = splits.isin(TRAINING_SPLITS)
    featurizer.fit(leads[training], source=source)
    if activity_report is not None:
        featurizer.activity_ = activity_report["spec"]
    for group in ("fit", "intent"):  # before LightGBM, which aborts the process on these
        check_monotone(
            featurizer, group=group, increasing=getattr(params.train, group).monotone_increasing, source=source
        )
    # The input contract, learned from the same training rows; calibrate stores it in the scorer.
    featurizer.contract_ = learn_contract(
        leads[training],
        id_column=params.columns.id,
        featurizer=featurizer,
        bant=params.bant,
        missing_values=params.data.missing_values,
        source=source,
    ).to_dict()
    X_fit, X_intent = featurizer.transform(leads, source=source)
    meta = pd.DataFrame({params.columns.id: leads[params.columns.id], "split": splits, "label": labels})
    if meta_extra is not None:  # activity rows: as_of, age_days, weight (pipeline.tables drops them)
        meta = pd.concat([meta, meta_extra], axis=1)
    fit_table = pd.concat([meta, X_fit], axis=1)
    intent_table = pd.concat([meta, X_intent], axis=1)
    return Featurized(labels, splits, audit, featurizer, fit_table, intent_table, None)


def run(
    params: Params,
    *,
    raw: str,
    fit_out: str,
    intent_out: str,
    featurizer_out: str,
    audit_out: str | None = None,
    activities: str | None = None,
) -> dict:
    """Label and split leads, check there is enough data, audit for leaks, learn the featurizer on
    training leads, write both feature tables and the audit report. Returns the audit.

    ``activities``: the activity log generate wrote; read only when params ``activities.source`` is set
    (then a row is a lead at one age, see :func:`featurize_leads`)."""
    from leadscore.errors import DataValidationError
    from leadscore.io import write_json, write_table
    from leadscore.models.persistence import save_featurizer
    from leadscore.pipeline.tables import read_raw_leads

    leads = read_raw_leads(params, raw)
    log_path = activities if params.activities.source is not None else None
    if params.activities.source is not None and activities is None:
        raise DataValidationError("params activities.source is set: pass --activities (the log generate wrote)")
    result = featurize_leads(params, leads, source=raw, activities=log_path)
    if result.stop_message is not None:
        if audit_out:
            write_json(result.audit, audit_out)  # the report says which columns stopped the run
        raise DataValidationError(result.stop_message)
    write_table(result.fit_table, fit_out)
    write_table(result.intent_table, intent_out)
    save_featurizer(result.featurizer, featurizer_out)
    if audit_out:
        write_json(result.audit, audit_out)
    log.info("split sizes: %s", result.splits.value_counts().to_dict())
    return result.audit


@friendly
def command(
    raw: Annotated[str, typer.Option(help="raw lead table")],
    fit_out: Annotated[str, typer.Option(help="fit feature table to write")],
    intent_out: Annotated[str, typer.Option(help="intent feature table to write")],
    featurizer_out: Annotated[str, typer.Option(help="fitted featurizer to write")],
    audit_out: Annotated[
        str | None, typer.Option(help="feature audit (single-column AUCs, data checks) to write")
    ] = None,
    activities: Annotated[str | None, typer.Option(help="activity log (read when activities.source is set)")] = None,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> None:
    """Validate raw leads, check there is enough, split them in time, audit for leaks, derive features."""
    with status("featurizing"):
        run(
            load(params),
            raw=raw,
            fit_out=fit_out,
            intent_out=intent_out,
            featurizer_out=featurizer_out,
            audit_out=audit_out,
            activities=activities,
        )


if __name__ == "__main__":
    main(command)
