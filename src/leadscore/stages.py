"""DVC stage entry points: the only place pipeline files are read and written.

Each function takes its file paths as arguments (stated once, in dvc.yaml's ``cmd``), reads its
inputs, calls pure functions from the package, and writes its outputs atomically.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.config import Params
from leadscore.data.contract import InputContract, learn_contract
from leadscore.data.guards import check_minimum_data
from leadscore.data.loading import load_raw_leads
from leadscore.data.outcomes import (
    CALIBRATION,
    EARLY_STOPPING,
    OPEN,
    TEST,
    TRAIN,
    TRAINING_SPLITS,
    assign_splits,
    effective_split,
    outcome_labels,
)
from leadscore.data.validation import validate_ids
from leadscore.errors import DataValidationError
from leadscore.evaluation.baselines import (
    all_features_lightgbm_config,
    bant_points,
    random_scores,
    train_all_features_lightgbm,
    train_logistic,
)
from leadscore.evaluation.benchmark import add_rule_probabilities, evaluate_test_split, plot_tables
from leadscore.evaluation.importance import importance_figure
from leadscore.features.build import LeadFeaturizer
from leadscore.features.leakage import audit_columns
from leadscore.io import dump_object, load_object, read_table, write_bytes, write_json, write_table, write_text
from leadscore.models.bant import bant_criteria
from leadscore.models.calibration import ConversionModel, calibrate_classifier, score_threshold
from leadscore.models.explain import global_importance
from leadscore.models.scorer import LeadScorer
from leadscore.models.training import train_lightgbm

log = logging.getLogger(__name__)

META_COLUMNS = ("split", "label")


def file_fingerprint(path: str | Path) -> str:
    """sha256 of a file's bytes: identifies the exact data a model was trained on."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_raw_leads(params: Params, path: str | Path) -> pd.DataFrame:
    """Read the raw lead table written by the generate stage."""
    raw = read_table(path)
    validate_ids(raw, params.columns.id, source=str(path))
    return raw


# -- generate -----------------------------------------------------------------------------------
def generate(params: Params, *, leads_out: str, truth_out: str) -> None:
    """Write the raw lead table (synthetic, or the user's export) and the truth file."""
    leads, truth = load_raw_leads(params)
    if truth is None:
        # Real exports have no ground truth: an empty truth file tells evaluate to skip the oracle.
        id_dtype = leads[params.columns.id].dtype
        truth = pd.DataFrame({params.columns.id: pd.Series([], dtype=id_dtype), "true_p": pd.Series([], dtype=float)})
    write_table(leads, leads_out)
    write_table(truth, truth_out)
    log.info("wrote %d leads to %s", len(leads), leads_out)


# -- featurize ----------------------------------------------------------------------------------
def feature_audit(params: Params, raw: pd.DataFrame, labels: pd.Series, splits: pd.Series, *, source: str) -> dict:
    """Single-column AUC of every candidate and excluded column on the train split (the leak guard).

    Candidates are the fit and intent columns; columns listed in ``features.exclude`` are measured
    too (status "excluded") so the report shows why they are out.
    """
    f = params.features
    train = (splits == TRAIN).to_numpy()
    candidates = [*f.fit, *f.intent, *f.exclude]
    present = [c for c in dict.fromkeys(candidates) if c in raw.columns]
    frame = raw.loc[train, present]
    if params.data.missing_values:
        frame = frame.replace(list(params.data.missing_values), np.nan)
    table = audit_columns(frame, labels[train], threshold=f.leak_auc_threshold, seed=params.split.seed)
    group = {**dict.fromkeys(f.fit, "fit"), **dict.fromkeys(f.intent, "intent")}
    table["group"] = table["column"].map(group).fillna("-")
    table["status"] = np.where(table["column"].isin(f.exclude), "excluded", "used")
    leaks = table[table["suspected_leak"] & (table["status"] == "used")]["column"].tolist()
    return {
        "split": TRAIN,
        "train_leads": int(train.sum()),
        "threshold": f.leak_auc_threshold,
        "on_suspected_leak": f.on_suspected_leak,
        "suspected_leaks": leaks,
        "columns": table[["column", "group", "kind", "auc", "suspected_leak", "status"]].to_dict(orient="records"),
    }


def featurize(
    params: Params, *, raw_path: str, fit_out: str, intent_out: str, featurizer_out: str, audit_out: str | None = None
) -> dict:
    """Label and split leads, check there is enough data, audit for leaks, learn the featurizer on
    training leads, write both feature tables (and the audit report). Returns the audit."""
    raw = read_raw_leads(params, raw_path)
    labels = outcome_labels(raw, params.columns, source=raw_path)
    data_check = check_minimum_data(labels, params.guards, source=raw_path)
    for warning in data_check["warnings"]:
        log.warning(warning)
    splits = assign_splits(raw, labels, split=params.split, columns=params.columns, source=raw_path)
    split_description = effective_split(params.split, params.columns)
    log.info("split: %s", split_description)
    audit = feature_audit(params, raw, labels, splits, source=raw_path)
    audit = {"data": data_check, "split_method": split_description, **audit}
    features = params.features
    if audit["suspected_leaks"]:
        leaks = ", ".join(
            f"{c!r} (AUC {a['auc']:.3f})"
            for c in audit["suspected_leaks"]
            for a in audit["columns"]
            if a["column"] == c
        )
        message = (
            f"{raw_path}: suspected leak(s): {leaks} predict the outcome almost alone on the train split "
            f"(threshold {features.leak_auc_threshold}); if written after the outcome, list them in features.exclude"
        )
        if features.on_suspected_leak == "fail":
            if audit_out:
                write_json(audit, audit_out)
            raise DataValidationError(message + " (features.on_suspected_leak: fail)")
        if features.on_suspected_leak == "drop":
            features = features.model_copy(update={"exclude": (*features.exclude, *audit["suspected_leaks"])})
            if not features.fit_columns or not features.intent_columns:
                raise DataValidationError(
                    message + "; dropping them would leave the fit or intent model without features"
                )
            message += "; dropped (features.on_suspected_leak: drop)"
        log.warning(message)
    training = splits.isin(TRAINING_SPLITS)
    featurizer = LeadFeaturizer(features=features, missing_values=params.data.missing_values)
    featurizer.fit(raw[training], source=raw_path)
    # input-contract: learned from the same training rows, carried to calibrate with the featurizer.
    featurizer.contract_ = learn_contract(
        raw[training],
        id_column=params.columns.id,
        featurizer=featurizer,
        bant=params.bant,
        missing_values=params.data.missing_values,
        source=raw_path,
    ).to_dict()
    X_fit, X_intent = featurizer.transform(raw, source=raw_path)
    meta = pd.DataFrame({params.columns.id: raw[params.columns.id], "split": splits, "label": labels})
    write_table(pd.concat([meta, X_fit], axis=1), fit_out)
    write_table(pd.concat([meta, X_intent], axis=1), intent_out)
    dump_object(featurizer, featurizer_out)
    if audit_out:
        write_json(audit, audit_out)
    counts = splits.value_counts().to_dict()
    log.info("split sizes: %s", counts)
    return audit


def _feature_matrix(table: pd.DataFrame, id_column: str) -> pd.DataFrame:
    return table.drop(columns=[id_column, *META_COLUMNS])


# -- train ------------------------------------------------------------------------------------
def train(params: Params, *, group: str, features_path: str, model_out: str) -> None:
    """Train the ``group`` ("fit" or "intent") LightGBM model on the train split."""
    table = read_table(features_path)
    X = _feature_matrix(table, params.columns.id)
    fit_rows, stop_rows = table["split"] == TRAIN, table["split"] == EARLY_STOPPING
    model = train_lightgbm(
        X[fit_rows],
        table.loc[fit_rows, "label"],
        X[stop_rows],
        table.loc[stop_rows, "label"],
        params=getattr(params.train, group),
        early_stopping_rounds=params.train.early_stopping_rounds,
        seed=params.train.seed,
    )
    dump_object(model, model_out)
    log.info("%s model: %d trees (early stopping)", group, model.best_iteration_ or model.n_estimators)


# -- calibrate ------------------------------------------------------------------------------------
def calibrate(
    params: Params,
    *,
    fit_features: str,
    intent_features: str,
    fit_model: str,
    intent_model: str,
    featurizer_path: str,
    scorer_out: str,
) -> None:
    """Calibrate both models and fit the conversion model on the calibration split."""
    fit_table, intent_table = read_table(fit_features), read_table(intent_features)
    cal = (fit_table["split"] == CALIBRATION).to_numpy()
    y_cal = fit_table.loc[cal, "label"].astype(int)
    id_col = params.columns.id
    fit_cal = calibrate_classifier(
        load_object(fit_model), _feature_matrix(fit_table, id_col)[cal], y_cal, method=params.calibrate.method
    )
    intent_cal = calibrate_classifier(
        load_object(intent_model), _feature_matrix(intent_table, id_col)[cal], y_cal, method=params.calibrate.method
    )
    p_fit = fit_cal.predict_proba(_feature_matrix(fit_table, id_col)[cal])[:, 1]
    p_intent = intent_cal.predict_proba(_feature_matrix(intent_table, id_col)[cal])[:, 1]
    conversion = ConversionModel().fit(np.column_stack([p_fit, p_intent]), y_cal)
    featurizer = load_object(featurizer_path)
    # input-contract: the contract learned in featurize, with params `contract` as its policies.
    contract = getattr(featurizer, "contract_", None)
    extras = {"contract": InputContract.from_dict(contract).with_policy(params.contract).to_dict()} if contract else {}
    scorer = LeadScorer(
        id_column=id_col,
        featurizer=featurizer,
        fit_model=fit_cal,
        intent_model=intent_cal,
        conversion_model=conversion,
        fit_threshold=score_threshold(p_fit, y_cal.to_numpy(), params.quadrants.fit),
        intent_threshold=score_threshold(p_intent, y_cal.to_numpy(), params.quadrants.intent),
        bant=params.bant,
        actions=dict(params.quadrants.actions),
        labels=dict(params.explain.labels),
        explain_top_k=params.explain.top_k,
        extras=extras,
    )
    dump_object(scorer, scorer_out)
    log.info("thresholds: fit > %.3f, intent > %.3f", scorer.fit_threshold, scorer.intent_threshold)


# -- evaluate -------------------------------------------------------------------------------------
def _scored_split(
    scorer: LeadScorer, raw: pd.DataFrame, table: pd.DataFrame, split: str, source: str, points: dict[str, float]
) -> pd.DataFrame:
    rows = (table["split"] == split).to_numpy()
    # The training export itself: featurize already checked it (contract_checked skips the scoring check).
    scored = scorer.predict(raw[rows], source=source, contract_checked=True)
    scored["label"] = table.loc[rows, "label"].to_numpy()
    scored["bant_points"] = bant_points(bant_criteria(raw[rows], scorer.bant, source=source), points).to_numpy()
    return scored


def _baseline_probabilities(
    params: Params, fit_table: pd.DataFrame, intent_table: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Train the all-features LightGBM and the logistic regression (train split; early stopping on the
    early-stopping split), calibrate them (calibration split), and score the test split."""
    id_col = params.columns.id
    if not fit_table[id_col].equals(intent_table[id_col]):
        raise DataValidationError("the fit and intent feature tables list different leads (rerun featurize)")
    X = pd.concat([_feature_matrix(fit_table, id_col), _feature_matrix(intent_table, id_col)], axis=1)
    y = fit_table["label"]
    part = {name: (fit_table["split"] == name).to_numpy() for name in (TRAIN, EARLY_STOPPING, CALIBRATION, TEST)}
    method = params.calibrate.method
    lightgbm_all = train_all_features_lightgbm(
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
    )
    logistic = train_logistic(
        X[part[TRAIN]],
        y[part[TRAIN]],
        X[part[CALIBRATION]],
        y[part[CALIBRATION]],
        C=params.evaluate.logistic_c,
        seed=params.train.seed,
        calibration_method=method,
    )
    X_test = X[part[TEST]]
    return {
        "lightgbm_all_probability": lightgbm_all.predict_proba(X_test)[:, 1],
        "logistic_probability": logistic.predict_proba(X_test)[:, 1],
    }


def evaluate(
    params: Params,
    *,
    raw_path: str,
    truth_path: str,
    features_path: str,
    intent_features_path: str,
    scorer_path: str,
    metrics_out: str,
    plots_dir: str,
    report_html: str,
    report_md: str,
    figures_dir: str,
) -> dict:
    """Benchmark every scorer on the test split; write metrics.json, the plot CSVs, the figures and the
    benchmark page (HTML + markdown), all from one metrics dict; plus the fit and intent models'
    global importance on the test split (mean |SHAP| per source column) in ``figures_dir``."""
    from leadscore.evaluation import figures, report  # matplotlib: only this stage pays for it

    raw = read_raw_leads(params, raw_path)
    table = read_table(features_path)
    intent_table = read_table(intent_features_path)
    scorer: LeadScorer = load_object(scorer_path)
    id_col = params.columns.id
    points = params.bant.point_weights
    calibration = _scored_split(scorer, raw, table, CALIBRATION, raw_path, points)
    test = _scored_split(scorer, raw, table, TEST, raw_path, points)
    for column, values in _baseline_probabilities(params, table, intent_table).items():
        test[column] = values
    test["random_score"] = random_scores(len(test), seed=params.evaluate.random_seed)
    truth = read_table(truth_path)
    if len(truth):
        # The truth file is read here and only here: it reports the ceiling, never trains anything.
        test = test.merge(truth[[id_col, "true_p"]], on=id_col, how="left", validate="one_to_one")
        if test["true_p"].isna().any():
            raise DataValidationError(f"{truth_path}: no true_p for some test leads")
    ev = params.evaluate
    options = {"bins": ev.ece_bins, "bant_variants": ev.bant_variants, "n_criteria": len(scorer.bant.criteria)}
    metrics = evaluate_test_split(
        test,
        calibration,
        ece_bins=ev.ece_bins,
        bant_variants=options["bant_variants"],
        n_criteria=options["n_criteria"],
        bootstrap_n=ev.bootstrap.n,
        bootstrap_seed=ev.bootstrap.seed,
        bootstrap_level=ev.bootstrap.level,
        capacity_reps=ev.capacity.reps,
        capacity_leads_per_rep=ev.capacity.leads_per_rep,
    )
    metrics["split"] = {s: int((table["split"] == s).sum()) for s in (TRAIN, EARLY_STOPPING, CALIBRATION, TEST, OPEN)}
    metrics["split"]["method"] = effective_split(params.split, params.columns)
    metrics["thresholds"] = {"fit": float(scorer.fit_threshold), "intent": float(scorer.intent_threshold)}
    metrics["report"] = {"html": report_html, "markdown": report_md, "figures": figures_dir}
    write_json(metrics, metrics_out)
    for name, frame in plot_tables(
        test, calibration, ece_bins=ev.ece_bins, bant_variants=ev.bant_variants, n_criteria=options["n_criteria"]
    ).items():
        write_table(frame, Path(plots_dir) / f"{name}.csv")
    scored = add_rule_probabilities(
        test, calibration, bant_variants=ev.bant_variants, n_criteria=len(scorer.bant.criteria)
    )
    pngs = figures.benchmark_figures(scored, metrics, **options)
    importance = global_importance(scorer, raw[(table["split"] == TEST).to_numpy()], source=raw_path)
    write_table(importance, Path(figures_dir) / "importance.csv")
    for group in ("fit", "intent"):
        pngs[f"importance_{group}"] = figures.png_bytes(importance_figure(importance, model=group))
    for name, png in pngs.items():
        write_bytes(png, Path(figures_dir) / f"{name}.png")
    md_dir = Path(report_md).resolve().parent
    figure_links = {name: os.path.relpath(Path(figures_dir).resolve() / f"{name}.png", md_dir) for name in pngs}
    write_text(report.render_markdown(metrics, figures=figure_links), report_md)
    write_text(report.render_html(metrics, figures=pngs), report_html)
    return metrics


# -- predict --------------------------------------------------------------------------------------
def predict(
    params: Params, *, raw_path: str, features_path: str, scorer_path: str, out_paths: list[str], explain: bool = False
) -> pd.DataFrame:
    """Score the open leads; write one file per path in ``out_paths`` (.parquet / .csv).

    With ``explain``, each lead also gets its top reasons for and against in fit and in intent.
    """
    raw = read_raw_leads(params, raw_path)
    table = read_table(features_path)
    open_rows = (table["split"] == OPEN).to_numpy()
    if not open_rows.any():
        log.warning("%s: no open leads to score", raw_path)
    scorer: LeadScorer = load_object(scorer_path)
    scored = (
        scorer.predict(raw[open_rows], source=raw_path, explain=explain, contract_checked=True)
        .sort_values("rank", kind="stable")
        .reset_index(drop=True)
    )
    for path in out_paths:
        write_table(scored, path)
    return scored


# -- register -------------------------------------------------------------------------------------
def register(
    params: Params,
    *,
    params_path: str,
    raw_path: str,
    features_path: str,
    scorer_path: str,
    fit_model_path: str,
    intent_model_path: str,
    metrics_path: str,
    run_out: str,
    artifacts: list[str] = (),
) -> dict:
    """Log this pipeline run to MLflow and register the composite model (see leadscore.tracking)."""
    import json

    from leadscore import tracking  # imports MLflow: only this stage pays for it

    raw = read_raw_leads(params, raw_path)
    table = read_table(features_path)
    open_rows = (table["split"] == OPEN).to_numpy()
    example = raw[open_rows] if open_rows.any() else raw
    summary = tracking.log_pipeline_run(
        params,
        params_path=params_path,
        metrics=json.loads(Path(metrics_path).read_text()),
        scorer_path=scorer_path,
        fit_model_path=fit_model_path,
        intent_model_path=intent_model_path,
        input_example=example,
        data_fingerprint=file_fingerprint(raw_path),
        artifacts=[metrics_path, *artifacts],
    )
    write_json(summary, run_out)
    return summary


# -- everything but register, in one directory (tests and benchmarks) ------------------------------
PIPELINE_ORDER = ("generate", "featurize", "train", "calibrate", "evaluate", "predict")


def run_all(params: Params, *, workdir: str | Path, through: str = "predict") -> dict[str, Path]:
    """Run generate .. ``through`` (never register) with every file under ``workdir``; return the paths.

    The same stage functions `dvc repro` calls, for tests and benchmark scripts that need a trained
    pipeline without a DVC project. The layout under ``workdir`` is this function's own (the
    project's paths are stated in dvc.yaml only).
    """
    if through not in PIPELINE_ORDER:
        raise ValueError(f"through must be one of {PIPELINE_ORDER}, got {through!r}")
    steps = PIPELINE_ORDER[: PIPELINE_ORDER.index(through) + 1]
    d = Path(workdir)
    p = {
        "leads": d / "raw/leads.parquet",
        "truth": d / "raw/truth.parquet",
        "fit_features": d / "features/fit.parquet",
        "intent_features": d / "features/intent.parquet",
        "featurizer": d / "models/featurizer.joblib",
        "audit": d / "reports/feature_audit.json",
        "fit_model": d / "models/fit_model.joblib",
        "intent_model": d / "models/intent_model.joblib",
        "scorer": d / "models/lead_scorer.joblib",
        "metrics": d / "reports/metrics.json",
        "plots": d / "reports/plots",
        "html": d / "reports/benchmark.html",
        "md": d / "reports/benchmark.md",
        "figures": d / "reports/figures",
        "predictions": d / "predictions/open_leads_scored.parquet",
    }
    s = {k: str(v) for k, v in p.items()}
    generate(params, leads_out=s["leads"], truth_out=s["truth"])
    if "featurize" in steps:
        featurize(
            params,
            raw_path=s["leads"],
            fit_out=s["fit_features"],
            intent_out=s["intent_features"],
            featurizer_out=s["featurizer"],
            audit_out=s["audit"],
        )
    if "train" in steps:
        train(params, group="fit", features_path=s["fit_features"], model_out=s["fit_model"])
        train(params, group="intent", features_path=s["intent_features"], model_out=s["intent_model"])
    if "calibrate" in steps:
        calibrate(
            params,
            fit_features=s["fit_features"],
            intent_features=s["intent_features"],
            fit_model=s["fit_model"],
            intent_model=s["intent_model"],
            featurizer_path=s["featurizer"],
            scorer_out=s["scorer"],
        )
    if "evaluate" in steps:
        evaluate(
            params,
            raw_path=s["leads"],
            truth_path=s["truth"],
            features_path=s["fit_features"],
            intent_features_path=s["intent_features"],
            scorer_path=s["scorer"],
            metrics_out=s["metrics"],
            plots_dir=s["plots"],
            report_html=s["html"],
            report_md=s["md"],
            figures_dir=s["figures"],
        )
    if "predict" in steps:
        predict(
            params,
            raw_path=s["leads"],
            features_path=s["fit_features"],
            scorer_path=s["scorer"],
            out_paths=[s["predictions"]],
        )
    return p
