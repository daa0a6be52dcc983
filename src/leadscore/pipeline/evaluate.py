"""Stage ``evaluate``: every scorer on the test split only; metrics, `dvc plots` tables, the benchmark page.

The model vs BANT, its variants and points, the baselines (scored by the ``baselines`` stage),
random, and the oracle (true probability: synthetic data only, read here and nowhere else).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadscore.pipeline.common import DEFAULT_PARAMS, ParamsOpt, console, friendly, load, main, status

if TYPE_CHECKING:
    import pandas as pd

    from leadscore.config import Params
    from leadscore.models.scorer import LeadScorer

log = logging.getLogger(__name__)


def _scored_split(
    scorer: LeadScorer, leads: pd.DataFrame, table: pd.DataFrame, split: str, *, source: str, points: dict[str, float]
) -> pd.DataFrame:
    from leadscore.evaluation.baselines import bant_points
    from leadscore.models.bant import bant_criteria
    from leadscore.pipeline.tables import rows_in

    rows = rows_in(table, split)
    # The training export itself: featurize already checked it against the contract it learned.
    scored = scorer.predict(leads[rows], source=source, contract_checked=True)
    scored["label"] = table.loc[rows, "label"].to_numpy()
    criteria = bant_criteria(leads[rows], scorer.bant, source=source, missing_values=scorer.featurizer.missing_values)
    scored["bant_points"] = bant_points(criteria, points).to_numpy()
    return scored


def run(
    params: Params,
    *,
    raw: str,
    truth: str,
    features: str,
    baseline_scores: str,
    scorer: str,
    metrics_out: str,
    plots_dir: str,
    report_html: str,
    report_md: str,
    figures_dir: str,
    audit: str | None = None,
    activities: str | None = None,
) -> dict[str, Any]:
    """Benchmark every scorer on the test split and write metrics.json, the plot CSVs, the charts
    (with the fit and intent models' global importance) and the benchmark page, all from one dict.

    ``audit``: featurize's leak audit; its suspected leaks go to metrics.json (``leakage``), the red
    banner at the top of the page and of the run summary, and the audit table on the page.

    ``activities`` (issue 14): the activity log, read when the feature tables hold snapshots by lead
    age: the test rows are then the test leads' snapshots, and the page gains the table and chart by
    lead age and the naive all-time leak demo (metrics ``activity``)."""
    import json
    import os
    from pathlib import Path

    from leadscore.data.outcomes import (
        CALIBRATION,
        CLOSED_AFTER_CUTOFF,
        EARLY_STOPPING,
        OPEN,
        TEST,
        TRAIN,
        split_words,
    )
    from leadscore.data.values import id_text
    from leadscore.errors import DataValidationError
    from leadscore.evaluation import figures, report
    from leadscore.evaluation.baselines import random_scores
    from leadscore.evaluation.benchmark import add_rule_probabilities, evaluate_test_split, plot_tables
    from leadscore.evaluation.importance import importance_figure
    from leadscore.features.leakage import leakage_summary
    from leadscore.io import read_table, write_bytes, write_json, write_table, write_text
    from leadscore.models.explain import global_importance
    from leadscore.models.persistence import load_scorer
    from leadscore.models.scorer import display_from_params
    from leadscore.pipeline.tables import read_raw_leads, rows_in

    leads = read_raw_leads(params, raw)
    table = read_table(features)
    # The importance charts show params explain.labels (display text is not part of the model).
    model = load_scorer(scorer).with_display(display_from_params(params))
    id_col = params.columns.id
    points = params.bant.point_weights
    from leadscore.pipeline.activity import is_activity_table, table_rows

    lead_table, keys, snapshots = leads, [id_col], is_activity_table(table)
    if snapshots:  # issue 14: a row is a lead at one age; the scorer reads it with its log features
        leads = table_rows(params, leads=leads, table=table, activities=activities, featurizer=model.featurizer)
        keys = [id_col, "as_of"]
    calibration = _scored_split(model, leads, table, CALIBRATION, source=raw, points=points)
    test = _scored_split(model, leads, table, TEST, source=raw, points=points)
    if snapshots:
        for column in ("as_of", "age_days"):
            test[column] = table.loc[rows_in(table, TEST), column].to_numpy()
    # Scored ids are text (the scorer's output contract); the feature tables keep the export's dtype.
    baselines = read_table(baseline_scores)
    baselines[id_col] = id_text(baselines[id_col])
    test = test.merge(baselines, on=keys, how="left", validate="one_to_one")
    if test[["lightgbm_all_probability", "logistic_probability"]].isna().any().any():
        raise DataValidationError(f"{baseline_scores}: no baseline scores for some test leads (rerun baselines)")
    test["random_score"] = random_scores(len(test), seed=params.evaluate.random_seed)
    oracle = read_table(truth)
    oracle[id_col] = id_text(oracle[id_col])
    if len(oracle):
        test = test.merge(
            oracle[[id_col, "true_p"]], on=id_col, how="left", validate="many_to_one" if snapshots else "one_to_one"
        )
        if test["true_p"].isna().any():
            raise DataValidationError(f"{truth}: no true_p for some test leads")
    ev = params.evaluate
    n_criteria = len(model.bant.criteria)
    # Rules become probabilities once (through the calibration split's rate per level); every table,
    # chart and plot below reads the same columns.
    scored = add_rule_probabilities(test, calibration, bant_variants=ev.bant_variants, n_criteria=n_criteria)
    metrics = evaluate_test_split(
        scored,
        ece_bins=ev.ece_bins,
        bant_variants=ev.bant_variants,
        n_criteria=n_criteria,
        bootstrap_n=ev.bootstrap.n,
        bootstrap_seed=ev.bootstrap.seed,
        bootstrap_level=ev.bootstrap.level,
        capacity_reps=ev.capacity.reps,
        capacity_leads_per_rep=ev.capacity.leads_per_rep,
    )
    metrics["split"] = {s: int((table["split"] == s).sum()) for s in (TRAIN, EARLY_STOPPING, CALIBRATION, TEST, OPEN)}
    # Issue 11: with columns.closed_at, training-period leads closed after the cut-off (not trained on).
    metrics["split"][CLOSED_AFTER_CUTOFF] = int((table["split"] == CLOSED_AFTER_CUTOFF).sum())
    words = split_words(params.split, params.columns)
    metrics["split"].update(
        method=words["description"], kind=words["kind"], test_leads=words["test_leads"], group=words["group"]
    )
    metrics["thresholds"] = {"fit": float(model.fit_threshold), "intent": float(model.intent_threshold)}
    # Issue 15: which conversion model calibrate chose, and each candidate's out-of-fold calibration numbers.
    if "conversion_selection" in model.extras:
        metrics["conversion_selection"] = model.extras["conversion_selection"]
    metrics["bant_rule"] = {"n_criteria": n_criteria, "min_criteria": model.bant.min_criteria}
    # An axis with no columns: its model predicts the base rate and every lead counts as high on it.
    metrics["missing_axes"] = list(model.featurizer.empty_groups)
    if audit is not None:
        metrics["leakage"] = leakage_summary(json.loads(Path(audit).read_text()))
    activity_png = None
    if snapshots:
        metrics["activity"], activity_png = _activity_section(
            params, lead_table=lead_table, table=table, scored=scored, activities=activities, audit=audit
        )
    metrics["report"] = {"html": report_html, "markdown": report_md, "figures": figures_dir}
    write_json(metrics, metrics_out)
    tables = plot_tables(scored, ece_bins=ev.ece_bins, bant_variants=ev.bant_variants, n_criteria=n_criteria)
    for name, frame in tables.items():
        write_table(frame, Path(plots_dir) / f"{name}.csv")
    pngs = figures.benchmark_figures(
        scored, metrics, bins=ev.ece_bins, bant_variants=ev.bant_variants, n_criteria=n_criteria
    )
    importance = global_importance(model, leads[rows_in(table, TEST)], source=raw)
    write_table(importance, Path(figures_dir) / "importance.csv")
    for group in ("fit", "intent"):
        if group not in metrics["missing_axes"]:
            pngs[f"importance_{group}"] = figures.png_bytes(importance_figure(importance, model=group))
    if activity_png is not None:
        pngs["activity_ages"] = activity_png
    for name, png in pngs.items():
        write_bytes(png, Path(figures_dir) / f"{name}.png")
    md_dir = Path(report_md).resolve().parent
    links = {name: os.path.relpath(Path(figures_dir).resolve() / f"{name}.png", md_dir) for name in pngs}
    write_text(report.render_markdown(metrics, figures=links), report_md)
    write_text(report.render_html(metrics, figures=pngs), report_html)
    return metrics


def _activity_section(
    params: Params,
    *,
    lead_table: pd.DataFrame,
    table: pd.DataFrame,
    scored: pd.DataFrame,
    activities: Any,
    audit: str | None,
) -> tuple[dict[str, Any], bytes]:
    """Metrics ``activity`` (the age table, the leak demo, the decay choice) and the age chart's PNG."""
    import json
    from pathlib import Path

    from leadscore.data.outcomes import TEST, TRAIN
    from leadscore.evaluation.ages import age_figure, age_table, naive_leak_demo
    from leadscore.evaluation.figures import png_bytes
    from leadscore.features.intent_log import naive_at_age, naive_rows

    id_col = params.columns.id
    report = json.loads(Path(audit).read_text()).get("activity", {}) if audit else {}
    types = report.get("types") or list(params.activities.types)
    ages = params.activities.snapshot_ages_days
    # The leak demo: one row per lead, all-time counts (what an export taken today holds).
    per_lead = table[[id_col, "split", "label"]].drop_duplicates(id_col)
    train = per_lead[per_lead["split"] == TRAIN].reset_index(drop=True)
    test = per_lead[per_lead["split"] == TEST].reset_index(drop=True)
    at_age = naive_at_age(activities, scored[[id_col, "as_of"]].reset_index(drop=True), params=params, types=types)
    # Scored ids are text; the lead table's keep their dtype: compare as text.
    train[id_col], test[id_col] = train[id_col].astype(str), test[id_col].astype(str)
    backtest, naive_scores = naive_leak_demo(
        naive_rows(activities, train, params=params, types=types),
        train["label"].to_numpy(),
        naive_rows(activities, test, params=params, types=types),
        test["label"].to_numpy(),
        at_age,
        seed=params.train.seed,
    )
    rows = age_table(scored.reset_index(drop=True), ages=ages, naive_at_age=naive_scores)
    section: dict[str, Any] = {
        "ages": rows,
        "naive": {"backtest_auc": backtest, "test_leads": len(test), "train_leads": len(train)},
        "naive_flagged": report.get("naive_flagged", []),
        "naive_columns": report.get("naive", []),
        "windows_days": report.get("windows_days"),
        "half_lives_days": report.get("half_lives_days"),
        "decay_table": report.get("decay_table", []),
        "chosen_on": report.get("chosen_on"),
        "reference_date": report.get("spec", {}).get("reference_date"),
        "events_source": str(params.activities.source),
    }
    return section, png_bytes(age_figure(rows, naive_backtest_auc=backtest))


@friendly
def command(
    raw: Annotated[str, typer.Option()],
    truth: Annotated[str, typer.Option()],
    features: Annotated[str, typer.Option(help="the fit feature table (labels, splits)")],
    baseline_scores: Annotated[str, typer.Option(help="test-split probabilities written by the baselines stage")],
    scorer: Annotated[str, typer.Option()],
    metrics_out: Annotated[str, typer.Option()],
    plots_dir: Annotated[str, typer.Option(help="CSV tables for `dvc plots`")],
    report_html: Annotated[str, typer.Option(help="self-contained benchmark page to write")],
    report_md: Annotated[str, typer.Option(help="the same tables as markdown")],
    figures_dir: Annotated[str, typer.Option(help="benchmark charts (PNG) to write")],
    audit: Annotated[str | None, typer.Option(help="featurize's leak audit (feature_audit.json)")] = None,
    activities: Annotated[str | None, typer.Option(help="activity log (activity snapshot tables only)")] = None,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> None:
    """Model vs BANT vs baselines vs oracle on the test split: metrics, plots and the benchmark page."""
    with status("evaluating on the test split (bootstrap, charts, report)"):
        metrics = run(
            load(params),
            raw=raw,
            truth=truth,
            features=features,
            baseline_scores=baseline_scores,
            scorer=scorer,
            metrics_out=metrics_out,
            plots_dir=plots_dir,
            report_html=report_html,
            report_md=report_md,
            figures_dir=figures_dir,
            audit=audit,
            activities=activities,
        )
    # One line here; `leadscore summary` (the end of `make run`) prints the full tables.
    conv, ratio = metrics["test"]["conversion"], metrics["capacity"]["ratio"]
    console.print(
        f"test split: conversion AUC {conv['auc']:.3f}, ECE {conv['ece']:.3f}, "
        f"capacity ratio {'-' if ratio is None else f'{ratio:.3f}'}"
    )


if __name__ == "__main__":
    main(command)
