"""Stage ``backtest``: rolling-origin evaluation over the last K periods, retrained with the pipeline's code.

For each period: the leads known before it (created before its start; with ``columns.closed_at``, only
outcomes known by then) go through the same functions the featurize, train_fit, train_intent,
calibrate and baselines stages call (:func:`~leadscore.pipeline.featurize.featurize_leads`,
:func:`~leadscore.pipeline.train.train_group`, :func:`~leadscore.pipeline.calibrate.build_scorer`,
:func:`~leadscore.pipeline.baselines.train_baselines`), with the train + calibration shares of
params ``split`` stretched over the whole history (the period itself is the test), and the
period's closed leads are scored. Pure logic lives in :mod:`leadscore.evaluation.backtest`.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadscore.pipeline.common import DEFAULT_PARAMS, ParamsOpt, console, friendly, load, main, status

if TYPE_CHECKING:
    import pandas as pd

    from leadscore.config import Params

log = logging.getLogger(__name__)


def backtest_params(params: Params) -> Params:
    """``params`` for the retrainings: the cheaper budget of params ``backtest``, and a split with no
    test block (train and calibration keep their ratio; the period is the test)."""
    bt = params.backtest
    budget = {
        k: v for k, v in (("n_estimators", bt.n_estimators), ("learning_rate", bt.learning_rate)) if v is not None
    }
    s = params.split
    # SplitConfig needs a positive test share; one this small rounds to zero leads.
    tiny = 1e-9
    share = (1 - tiny) / (s.train + s.calibration)
    split = s.model_copy(update={"train": s.train * share, "calibration": s.calibration * share, "test": tiny})
    train = params.train.model_copy(
        update={
            "fit": params.train.fit.model_copy(update=budget),
            "intent": params.train.intent.model_copy(update=budget),
            "early_stopping_rounds": bt.early_stopping_rounds or params.train.early_stopping_rounds,
        }
    )
    return params.model_copy(update={"split": split, "train": train})


def run_period(
    params: Params,
    *,
    leads: pd.DataFrame,
    labels: pd.Series,
    history: Any,
    period: Any,
    truth: pd.DataFrame | None,
    source: str,
    cutoff: Any,
) -> dict[str, Any] | None:
    """Retrain on ``history`` (bool mask), score the closed leads of ``period`` (bool mask); None if the
    period has too few closed leads or one class only."""
    import numpy as np
    import pandas as pd

    from leadscore.data.outcomes import CALIBRATION, lead_order, outcomes_known_at
    from leadscore.evaluation.backtest import period_metrics
    from leadscore.evaluation.metrics import rate_by_level
    from leadscore.models.bant import bant_score
    from leadscore.models.persistence import booster_from_text, booster_text
    from leadscore.pipeline.baselines import train_baselines
    from leadscore.pipeline.calibrate import build_scorer
    from leadscore.pipeline.featurize import featurize_leads
    from leadscore.pipeline.tables import rows_in
    from leadscore.pipeline.train import intent_offset, train_group

    config = params.backtest
    test_rows = period & labels.notna().to_numpy()
    y = labels[test_rows].astype(int).to_numpy()
    if len(y) < config.min_period_closed or y.min() == y.max():
        return None
    hist = leads[history].reset_index(drop=True)
    hist_labels = labels[history].reset_index(drop=True)
    if isinstance(cutoff, pd.Timestamp):
        hist_labels = outcomes_known_at(hist, hist_labels, params.columns, cutoff=cutoff, source=source)
    # Under on_suspected_leak "warn" the leak audit cannot change the features (a strong leak stops the
    # run, but featurize already checked that on the whole export): skip its per-column AUCs here.
    featurized = featurize_leads(
        params,
        hist,
        source=f"{source} (history)",
        labels=hist_labels,
        leak_audit=params.features.on_suspected_leak != "warn",
    )
    if featurized.stop_message is not None:
        from leadscore.errors import DataValidationError

        raise DataValidationError(featurized.stop_message)
    fit_table, intent_table = featurized.fit_table, featurized.intent_table
    # The stages hand boosters over as LightGBM text; so does the backtest (the same model object).
    boosters = {"fit": booster_from_text(booster_text(train_group(params, group="fit", table=fit_table)))}
    offset = intent_offset(params, fit_model=boosters["fit"], fit_table=fit_table, table=intent_table)
    intent_model = train_group(params, group="intent", table=intent_table, offset=offset)
    boosters["intent"] = booster_from_text(booster_text(intent_model))
    scorer = build_scorer(
        params,
        fit_table=fit_table,
        intent_table=intent_table,
        fit_model=boosters["fit"],
        intent_model=boosters["intent"],
        featurizer=featurized.featurizer,
        order=lead_order(hist, split=params.split, columns=params.columns, source=source),
        audit=featurized.audit,
        explanations=False,  # the backtest never explains a lead: skip the |SHAP| summary
    )
    models, _ = train_baselines(params, fit_table=fit_table, intent_table=intent_table, logistic=False)
    period_leads = leads[test_rows].reset_index(drop=True)
    # The same export as the history: scored as evaluate scores its test split (no contract re-check).
    scored = scorer.predict(period_leads, source=f"{source} (period)", contract_checked=True)
    X_fit, X_intent = scorer.featurizer.transform(period_leads, source=f"{source} (period)")
    p_all = models["lightgbm_all"].predict_proba(pd.concat([X_fit, X_intent], axis=1))[:, 1]
    # BANT as a probability: the history's calibration split's conversion rate per criteria met.
    cal = rows_in(fit_table, CALIBRATION)
    met_cal, _ = bant_score(hist[cal], params.bant, source=source)
    met = scored["bant_criteria_met"].to_numpy(dtype=float)
    bant_p = rate_by_level(met_cal.to_numpy(dtype=float), fit_table.loc[cal, "label"].to_numpy(), met)
    p_conv = scored["conversion_probability"].to_numpy()
    scorers = {"conversion": (p_conv, p_conv), "bant": (met, bant_p), "all_features": (p_all, p_all)}
    if truth is not None:
        ids = period_leads[[params.columns.id]].merge(truth, on=params.columns.id, how="left", validate="one_to_one")
        true_p = ids["true_p"].to_numpy(dtype=float)
        if not np.isnan(true_p).any():
            scorers["oracle"] = (true_p, true_p)
    result = period_metrics(
        y, scorers, bant_qualified=scored["bant_qualified"].to_numpy(), conversion=p_conv, config=config
    )
    result["trained_on"] = {
        "leads": len(hist),
        "closed_known": int(hist_labels.notna().sum()),
        "calibration": int(cal.sum()),
        "trees": {g: int(b.num_trees()) for g, b in boosters.items()},
    }
    return result


# -- periods in parallel ----------------------------------------------------------------------------
_SHARED: dict[str, Any] = {}


def _init_worker(shared: dict[str, Any]) -> None:
    """A worker process's copy of what every period reads (sent once per process, not per period)."""
    _SHARED.clear()
    _SHARED.update(shared)


def _period_task(task: dict[str, Any]) -> tuple[dict[str, Any] | None, float]:
    """One period, in this process or a worker: ``(run_period's result, seconds)``."""
    from leadscore.models.training import lightgbm_threads

    s = _SHARED
    started = time.perf_counter()
    with lightgbm_threads(s["params"].train.n_jobs):  # LightGBM's predictions too, not only its training
        result = run_period(
            s["params"],
            leads=s["leads"],
            labels=s["labels"],
            history=task["history"],
            period=task["period"],
            truth=s["truth"],
            source=s["source"],
            cutoff=task["cutoff"],
        )
    return result, time.perf_counter() - started


def _run_periods(shared: dict[str, Any], tasks: list[dict[str, Any]], *, n_jobs: int):
    """Each task's ``(result, seconds)`` in order; ``n_jobs`` > 1: that many worker processes.

    Periods are independent and every retraining is seeded, so the results are the same either way.
    Workers are spawned, not forked: a fork after OpenMP (LightGBM) has started can hang.
    """
    if n_jobs <= 1 or len(tasks) <= 1:
        _init_worker(shared)
        try:
            return [_period_task(t) for t in tasks]
        finally:
            _SHARED.clear()
    import importlib
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # By its module name, so a worker finds it when this file runs as `python -m` (__main__).
    module = importlib.import_module("leadscore.pipeline.backtest")
    with ProcessPoolExecutor(
        max_workers=min(n_jobs, len(tasks)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=module._init_worker,
        initargs=(shared,),
    ) as pool:
        return list(pool.map(module._period_task, tasks))


def run(params: Params, *, raw: str, truth: str, out: str, plots_dir: str, chart: str, report_html: str) -> dict:
    """Backtest over params ``backtest``; write the JSON, the dvc plots tables, the chart and a small page."""
    from pathlib import Path

    import pandas as pd

    from leadscore.data.outcomes import lead_order, outcome_labels
    from leadscore.errors import ConfigError
    from leadscore.evaluation.backtest import (
        backtest_figure,
        backtest_periods,
        json_value,
        plot_tables,
        render_html,
        summarise,
    )
    from leadscore.evaluation.figures import png_bytes
    from leadscore.io import read_table, write_bytes, write_json, write_table, write_text
    from leadscore.pipeline.tables import read_raw_leads

    started = time.perf_counter()
    leads = read_raw_leads(params, raw).reset_index(drop=True)
    labels = outcome_labels(leads, params.columns, source=raw)
    if params.split.method == "stratified" and params.columns.created_at is None:
        raise ConfigError(
            "backtest: split.method is stratified and columns.created_at is null: the leads have no order to "
            "roll forward through (set columns.created_at, or split.method row_order if the rows are in time order)"
        )
    order = lead_order(leads, split=params.split, columns=params.columns, source=raw)
    periods, rule = backtest_periods(order, labels.notna().to_numpy(), config=params.backtest)
    truth_table = read_table(truth) if truth and Path(truth).exists() else None
    if truth_table is not None and (len(truth_table) == 0 or "true_p" not in truth_table.columns):
        truth_table = None
    bt_params = backtest_params(params)
    dates = pd.api.types.is_datetime64_any_dtype(order)
    outcomes_rule = (
        f"outcomes known by the period's start (columns.closed_at {params.columns.closed_at!r})"
        if params.columns.closed_at and dates
        else "outcomes as in the export (no columns.closed_at: a lead's outcome is taken as known before "
        "the period, which flatters the history slightly)"
    )
    keys = order.to_numpy()
    tasks = [
        {"history": keys < p.start, "period": (keys >= p.start) & (keys < p.end), "cutoff": p.start if dates else None}
        for p in periods
    ]
    shared = {"params": bt_params, "leads": leads, "labels": labels, "truth": truth_table, "source": raw}
    results, skipped = [], []
    for period, (result, seconds) in zip(
        periods, _run_periods(shared, tasks, n_jobs=params.backtest.n_jobs), strict=True
    ):
        if result is None:
            skipped.append(period.label)
            log.warning("backtest %s: too few closed leads or one class only; skipped", period.label)
            continue
        result = {
            "label": period.label,
            "start": json_value(period.start),
            "end": json_value(period.end),
            **result,
            "seconds": round(seconds, 2),
        }
        log.info(
            "backtest %s: n=%d, AUC %.3f (BANT %.3f), capacity ratio %s",
            period.label,
            result["n"],
            result["scorers"]["conversion"]["auc"],
            result["scorers"]["bant"]["auc"],
            result["capacity_ratio"],
        )
        results.append(result)
    report: dict[str, Any] = {
        "periods_rule": rule,
        "outcomes_rule": outcomes_rule,
        "budget": {"n_estimators": params.backtest.n_estimators, "learning_rate": params.backtest.learning_rate},
        "periods": results,
        "skipped": skipped,
        "summary": summarise(results),
        "notes": [f"skipped (too few closed leads or one class): {', '.join(skipped)}"] if skipped else [],
    }
    report["seconds"] = round(time.perf_counter() - started, 1)
    png = png_bytes(backtest_figure(report))  # says so when no period could be evaluated
    for name, frame in plot_tables(report).items():
        write_table(frame, Path(plots_dir) / f"{name}.csv")
    write_json(report, out)
    write_bytes(png, chart)
    write_text(render_html(report, png=png), report_html)
    return report


@friendly
def command(
    raw: Annotated[str, typer.Option(help="raw lead table")],
    truth: Annotated[str, typer.Option(help="true probabilities (synthetic data; empty otherwise)")],
    out: Annotated[str, typer.Option(help="backtest.json to write")],
    plots_dir: Annotated[str, typer.Option(help="dvc plots tables (one CSV per scorer)")],
    chart: Annotated[str, typer.Option(help="PNG chart of each metric by period")],
    report_html: Annotated[str, typer.Option(help="small self-contained page")],
    params: ParamsOpt = DEFAULT_PARAMS,
) -> None:
    """Rolling-origin backtest: retrain on everything before each of the last K periods, score the period."""
    with status("backtesting"):
        report = run(
            load(params), raw=raw, truth=truth, out=out, plots_dir=plots_dir, chart=chart, report_html=report_html
        )
    s = report["summary"]
    console.print(
        f"backtest: {s['periods']} periods in {report['seconds']:.0f} s; worst conversion AUC "
        f"{s.get('min_conversion_auc', float('nan')):.3f}, worst capacity ratio {s.get('min_capacity_ratio')}, "
        f"largest AUC gap to the oracle {s.get('max_auc_gap_to_oracle')}",
        highlight=False,
    )


if __name__ == "__main__":
    main(command)
