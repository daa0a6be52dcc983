"""Command-line interface: one command per DVC stage, plus summary and batch scoring.

Paths are arguments, given once in dvc.yaml's ``cmd``. Errors caused by input or configuration are
printed as one clear message (exit code 2), never as a traceback.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, Group
from rich.logging import RichHandler
from rich.markup import escape
from rich.table import Table

from leadscore.errors import LeadscoreError

app = typer.Typer(
    help="leadscore: fit and intent lead scoring, benchmarked against BANT.", no_args_is_help=True, add_completion=False
)
console = Console(stderr=True)

ParamsOpt = Annotated[Path, typer.Option("--params", help="params.yaml to read")]


def _setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(message)s", handlers=[RichHandler(console=console, show_path=False)], force=True
    )


def _friendly(func):
    """Run a command; turn LeadscoreError into a one-line message and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _setup_logging()
        try:
            return func(*args, **kwargs)
        except LeadscoreError as err:
            # escape: a message quoting "[...]" (a value, a column) must not be eaten as Rich markup.
            console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False)
            raise typer.Exit(code=2) from None

    return wrapper


def _load(params: Path):
    from leadscore.config import load_params

    return load_params(params)


@app.command()
@_friendly
def generate(
    leads_out: Annotated[str, typer.Option(help="raw lead table to write (.parquet)")],
    truth_out: Annotated[str, typer.Option(help="true conversion probabilities (synthetic data only)")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write the raw lead table: the synthetic CRM, or your export named in params data.source."""
    from leadscore import stages

    with console.status("generating leads"):
        stages.generate(_load(params), leads_out=leads_out, truth_out=truth_out)


@app.command()
@_friendly
def featurize(
    raw: Annotated[str, typer.Option(help="raw lead table")],
    fit_out: Annotated[str, typer.Option(help="fit feature table to write")],
    intent_out: Annotated[str, typer.Option(help="intent feature table to write")],
    featurizer_out: Annotated[str, typer.Option(help="fitted featurizer to write")],
    audit_out: Annotated[
        str | None, typer.Option(help="feature audit (single-column AUCs, data checks) to write")
    ] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Validate raw leads, check there is enough, split them in time, audit for leaks, derive features."""
    from leadscore import stages

    with console.status("featurizing"):
        stages.featurize(
            _load(params),
            raw_path=raw,
            fit_out=fit_out,
            intent_out=intent_out,
            featurizer_out=featurizer_out,
            audit_out=audit_out,
        )


@app.command()
@_friendly
def train(
    group: Annotated[str, typer.Option(help="fit or intent")],
    features: Annotated[str, typer.Option(help="that group's feature table")],
    model_out: Annotated[str, typer.Option(help="model file to write")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Train the fit or the intent LightGBM model on the train split."""
    from leadscore import stages

    if group not in ("fit", "intent"):
        raise LeadscoreError(f"--group must be 'fit' or 'intent', got {group!r}")
    with console.status(f"training the {group} model"):
        stages.train(_load(params), group=group, features_path=features, model_out=model_out)


@app.command()
@_friendly
def calibrate(
    fit_features: Annotated[str, typer.Option()],
    intent_features: Annotated[str, typer.Option()],
    fit_model: Annotated[str, typer.Option()],
    intent_model: Annotated[str, typer.Option()],
    featurizer: Annotated[str, typer.Option()],
    scorer_out: Annotated[str, typer.Option(help="composite lead scorer to write")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Calibrate both models, fit the conversion model and set quadrant thresholds."""
    from leadscore import stages

    with console.status("calibrating"):
        stages.calibrate(
            _load(params),
            fit_features=fit_features,
            intent_features=intent_features,
            fit_model=fit_model,
            intent_model=intent_model,
            featurizer_path=featurizer,
            scorer_out=scorer_out,
        )


@app.command()
@_friendly
def evaluate(
    raw: Annotated[str, typer.Option()],
    truth: Annotated[str, typer.Option()],
    features: Annotated[str, typer.Option(help="the fit feature table (labels, splits, fit features)")],
    intent_features: Annotated[str, typer.Option(help="the intent feature table (for the all-features baselines)")],
    scorer: Annotated[str, typer.Option()],
    metrics_out: Annotated[str, typer.Option()],
    plots_dir: Annotated[str, typer.Option(help="CSV tables for `dvc plots`")],
    report_html: Annotated[str, typer.Option(help="self-contained benchmark page to write")],
    report_md: Annotated[str, typer.Option(help="the same tables as markdown")],
    figures_dir: Annotated[str, typer.Option(help="benchmark charts (PNG) to write")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Model vs BANT vs baselines vs oracle on the test split: metrics, plots and the benchmark page."""
    from leadscore import stages

    with console.status("evaluating on the test split (baselines, bootstrap, report)"):
        metrics = stages.evaluate(
            _load(params),
            raw_path=raw,
            truth_path=truth,
            features_path=features,
            intent_features_path=intent_features,
            scorer_path=scorer,
            metrics_out=metrics_out,
            plots_dir=plots_dir,
            report_html=report_html,
            report_md=report_md,
            figures_dir=figures_dir,
        )
    # One line here; `leadscore summary` (the end of `make run`) prints the full tables.
    conv = metrics["test"]["conversion"]
    console.print(
        f"test split: conversion AUC {conv['auc']:.3f}, ECE {conv['ece']:.3f}, capacity ratio {_fmt(metrics['capacity']['ratio'])}"
    )


@app.command()
@_friendly
def predict(
    raw: Annotated[str, typer.Option()],
    features: Annotated[str, typer.Option(help="a feature table (for the open split)")],
    scorer: Annotated[str, typer.Option()],
    out: Annotated[list[str], typer.Option(help="output file(s), .parquet or .csv; repeat for several")],
    explain: Annotated[
        bool, typer.Option("--explain", help="add each lead's top reasons for/against in fit and intent")
    ] = False,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Score the open leads: quadrant, calibrated conversion probability, action, BANT, rank."""
    from leadscore import stages

    with console.status("scoring open leads"):
        scored = stages.predict(
            _load(params), raw_path=raw, features_path=features, scorer_path=scorer, out_paths=out, explain=explain
        )
    console.print(f"scored {len(scored):,} open leads; quadrants: {scored['quadrant'].value_counts().to_dict()}")


@app.command()
@_friendly
def register(
    raw: Annotated[str, typer.Option(help="raw lead table (fingerprint and input example)")],
    features: Annotated[str, typer.Option(help="a feature table (to pick open leads as example)")],
    scorer: Annotated[str, typer.Option()],
    fit_model: Annotated[str, typer.Option()],
    intent_model: Annotated[str, typer.Option()],
    metrics: Annotated[str, typer.Option()],
    run_out: Annotated[str, typer.Option(help="run summary JSON to write")],
    artifact: Annotated[list[str], typer.Option(help="extra files to attach to the run")] = [],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Log the run to MLflow, register the composite model as challenger, promote it if better."""
    from leadscore import stages

    with console.status("logging to MLflow"):
        summary = stages.register(
            _load(params),
            params_path=str(params),
            raw_path=raw,
            features_path=features,
            scorer_path=scorer,
            fit_model_path=fit_model,
            intent_model_path=intent_model,
            metrics_path=metrics,
            run_out=run_out,
            artifacts=artifact,
        )
    console.print(
        f"MLflow run {summary['run_id']} -> {summary['registered_model']} v{summary['version']} {summary['aliases']}"
    )


@app.command(name="explain")
@_friendly
def explain_lead(
    lead_id: Annotated[str, typer.Argument(help="the lead's id (params columns.id)")],
    scorer: Annotated[Path, typer.Option(help="lead scorer written by the calibrate stage")] = Path(
        "models/lead_scorer.joblib"
    ),
    raw: Annotated[Path, typer.Option(help="lead table holding the lead (.parquet or .csv)")] = Path(
        "data/raw/leads.parquet"
    ),
) -> None:
    """Why this lead? Scores, quadrant, the top reasons for and against in fit and intent, and BANT."""
    from rich.panel import Panel

    from leadscore.io import load_object, read_table
    from leadscore.models.bant import bant_criteria
    from leadscore.models.explain import REASON_SEPARATOR

    model = load_object(scorer)
    leads = read_table(raw)
    if model.id_column not in leads.columns:
        raise LeadscoreError(f"{raw}: no id column {model.id_column!r}")
    row = leads[leads[model.id_column].astype(str) == lead_id]
    if row.empty:
        raise LeadscoreError(f"lead {lead_id!r} not found in {raw} (column {model.id_column!r})")
    row = row.head(1)
    scored = model.predict(row, source=str(raw), explain=True).iloc[0]

    scores = Table.grid(padding=(0, 2))
    scores.add_row("fit", f"{scored['fit_probability']:.1%}", f"(high above {model.fit_threshold:.1%})")
    scores.add_row("intent", f"{scored['intent_probability']:.1%}", f"(high above {model.intent_threshold:.1%})")
    scores.add_row("[bold]conversion[/]", f"[bold]{scored['conversion_probability']:.1%}[/]", "")
    reasons = Table(title="Reasons (effects in log-odds)", title_justify="left", expand=True)
    reasons.add_column("")
    reasons.add_column("for", style="green")
    reasons.add_column("against", style="red")
    for group in ("fit", "intent"):
        lines = [str(scored[f"{group}_reasons_{d}"]).replace(REASON_SEPARATOR, "\n") or "-" for d in ("for", "against")]
        reasons.add_row(group, *lines)
    bant = Table(
        title=f"BANT ({scored['bant_criteria_met']} of {len(model.bant.criteria)} met, "
        f"{'qualified' if scored['bant_qualified'] else 'not qualified'} at {model.bant.min_criteria})",
        title_justify="left",
        expand=True,
    )
    for col in ("criterion", "value", ""):
        bant.add_column(col)
    passed = bant_criteria(row, model.bant, source=str(raw)).iloc[0]
    for name, rule in model.bant.criteria.items():
        value = row[rule.column].iloc[0]
        bant.add_row(
            name, "missing" if _is_missing(value) else str(value), "[green]pass[/]" if passed[name] else "[red]fail[/]"
        )
    quadrant = str(scored["quadrant"]).replace("_fit_", " fit, ").replace("_", " ").capitalize()
    body = Group(
        scores,
        f"\n[bold]{quadrant}[/]: {scored['recommended_action']}",
        f"[italic]{scored['quadrant_summary']}[/]\n",
        reasons,
        bant,
    )
    Console().print(Panel(body, title=f"Lead {lead_id}", title_align="left"))


def _is_missing(value) -> bool:
    import pandas as pd

    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


@app.command()
@_friendly
def profile(
    name: Annotated[
        str, typer.Argument(help="a profile under profiles/ (e.g. x_education) or a path to a params file")
    ],
    dry_run: Annotated[bool, typer.Option(help="validate the profile and its data, change nothing")] = False,
) -> None:
    """Run the pipeline on a profile: copy it over params.yaml, then `dvc exp run`.

    A profile is a complete params.yaml for one data source. The run is a DVC experiment (see
    `dvc exp show`); nothing is committed. `git checkout params.yaml` returns to the default data.
    """
    import shutil
    import subprocess

    from leadscore.profiles import prepare_profile

    source = prepare_profile(name, root=Path.cwd())
    console.print(f"profile {source}: parameters valid, data found")
    if dry_run:
        return
    shutil.copyfile(source, "params.yaml")
    console.print(
        f"copied {source} over params.yaml; running `dvc exp run` (restore the default data with `git checkout params.yaml`)"
    )
    result = subprocess.run(["dvc", "exp", "run"], check=False)
    if result.returncode != 0:
        raise typer.Exit(code=result.returncode)
    _print_summary(json.loads(Path("reports/metrics.json").read_text()))


@app.command()
@_friendly
def score(
    model: Annotated[
        str,
        typer.Option(help="models/ directory, a .joblib scorer, or an MLflow URI such as models:/leadscore@champion"),
    ],
    input: Annotated[
        str, typer.Option("--input", help="leads: .csv, .parquet, a directory of Parquet files, or a SQLAlchemy URL")
    ],
    output: Annotated[
        str, typer.Option(help="scores: .parquet, .csv, a directory (Parquet parts), or a SQLAlchemy URL")
    ],
    table: Annotated[str | None, typer.Option(help="input table (database input)")] = None,
    query: Annotated[str | None, typer.Option(help="input SELECT (database input), run as given")] = None,
    output_table: Annotated[str | None, typer.Option(help="output table (database output)")] = None,
    mode: Annotated[
        str, typer.Option(help="database output: replace | append | upsert (on the id column)")
    ] = "replace",
    engine: Annotated[
        str, typer.Option(help="single (streaming, one process) or dask (Parquet in, Parquet directory out)")
    ] = "single",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address; default: a 2-worker LocalCluster")
    ] = None,
    chunk_size: Annotated[int, typer.Option(help="rows per chunk (single engine): bounds memory")] = 100_000,
    explain: Annotated[
        bool, typer.Option("--explain", help="add reason columns (needs a scorer with explain support)")
    ] = False,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Score a whole lead database in bounded chunks and write the scores atomically.

    Output: the predict stage's columns except the within-batch rank, plus model_name,
    model_version and scored_at. An interrupted run leaves the previous output untouched.
    """
    from leadscore.scoring.batch import load_model

    if engine not in ("single", "dask"):
        raise LeadscoreError(f"--engine: expected single or dask, got {engine!r}")
    with console.status(f"loading model {model}"):
        loaded = load_model(model)
    if engine == "dask":
        from leadscore.scoring.dask_engine import score_with_dask

        if table or query or output_table or mode != "replace":
            raise LeadscoreError(
                "--engine dask reads and writes Parquet only (no --table/--query/--output-table/--mode)"
            )
        result = score_with_dask(
            model=loaded,
            input_path=input,
            output_dir=output,
            scheduler=scheduler,
            explain=explain,
            console=console if progress else None,
        )
        target = output
    else:
        from leadscore.scoring.batch import score_batches
        from leadscore.scoring.sinks import open_sink
        from leadscore.scoring.sources import open_source

        if scheduler:
            raise LeadscoreError("--scheduler is only used with --engine dask")
        from leadscore.data.contract import text_columns_of  # input-contract: ids/categories read as text

        source = open_source(input, table=table, query=query, text_columns=text_columns_of(loaded.scorer))
        sink = open_sink(output, table=output_table, mode=mode, id_column=loaded.scorer.id_column)
        result = score_batches(
            model=loaded,
            source=source,
            sink=sink,
            chunk_size=chunk_size,
            explain=explain,
            console=console,
            show_progress=progress,
        )
        target = sink.description
    console.print(
        f"scored {result.rows:,} leads with {loaded.name} {loaded.version} in {result.seconds:.1f} s "
        f"({result.leads_per_second:,.0f} leads/s) -> {target}",
        highlight=False,
    )


@app.command()
@_friendly
def summary(
    metrics: Annotated[Path, typer.Argument(help="metrics.json written by evaluate")] = Path("reports/metrics.json"),
) -> None:
    """Print the model vs BANT vs oracle table from a metrics file."""
    if not metrics.is_file():
        raise LeadscoreError(f"{metrics}: not found (run `dvc repro` first)")
    _print_summary(json.loads(metrics.read_text()))


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _print_summary(metrics: dict) -> None:
    out = Console()
    table = Table(title="Test split: model vs BANT vs the true-probability ceiling")
    table.add_column("scorer")
    for col in ("AUC", "PR-AUC", "log loss", "Brier", "ECE"):
        table.add_column(col, justify="right")
    for name, m in metrics["test"].items():
        table.add_row(name, *(_fmt(m[k]) for k in ("auc", "pr_auc", "log_loss", "brier", "ece")))
    out.print(table)
    cap = metrics["capacity"]
    out.print(
        f"At BANT's volume ({cap['bant_volume']:,} leads): BANT converts {cap['bant_conversions']:,}, "
        f"the model's top {cap['bant_volume']:,} convert {cap['model_conversions_at_bant_volume']:,} "
        f"(ratio {_fmt(cap['ratio'])})."
    )
    conversion = metrics.get("at_bant_volume", {}).get("scorers", {}).get("conversion", {})
    if conversion.get("leads_to_match") is not None:
        out.print(
            f"Same wins with fewer calls: the model reaches BANT's {cap['bant_conversions']:,} conversions after "
            f"{conversion['leads_to_match']:,} leads ({conversion['fewer_calls']:.0%} fewer calls)."
        )
    quads = Table(title="Quadrants (test split)")
    for col in ("quadrant", "leads", "observed rate", "mean predicted"):
        quads.add_column(col, justify="right" if col != "quadrant" else "left")
    for name, q in metrics["quadrants"].items():
        quads.add_row(name, f"{q['n']:,}", _fmt(q["observed_rate"]), _fmt(q["mean_predicted"]))
    out.print(quads)
    page = metrics.get("report", {}).get("html")
    if page:
        out.print(
            f"Benchmark report: [bold]{Path(page).resolve().as_uri()}[/] (tables as markdown: {metrics['report']['markdown']})",
            highlight=False,
        )


if __name__ == "__main__":  # pragma: no cover
    app()
