"""Command-line interface: the DVC stages (one module each, mounted here) and the commands for people.

Paths are arguments, given once in dvc.yaml's ``cmd``; commands for people default to the paths
dvc.yaml states. Errors caused by input or configuration are printed as one clear message (exit
code 2), never as a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from leadscore.errors import LeadscoreError
from leadscore.pipeline import backtest, baselines, calibrate, evaluate, featurize, generate, predict, register, train
from leadscore.pipeline.common import console
from leadscore.pipeline.common import friendly as _friendly
from leadscore.pipeline.common import load as _load

app = typer.Typer(
    help="leadscore: fit and intent lead scoring, benchmarked against BANT.", no_args_is_help=True, add_completion=False
)

# The DVC stages, as `leadscore <stage>` (dvc.yaml runs them as `python -m leadscore.pipeline.<stage>`).
for _name, _module in (
    ("generate", generate),
    ("featurize", featurize),
    ("train", train),
    ("baselines", baselines),
    ("calibrate", calibrate),
    ("evaluate", evaluate),
    ("predict", predict),
    ("register", register),
    ("backtest", backtest),  # issue 11
):
    app.command(name=_name)(_module.command)


def _pipeline_path(stage: str, option: str) -> Path:
    """A default path for commands run in the project root: the one dvc.yaml states."""
    from leadscore.pipeline.paths import stage_path

    return stage_path(stage, option, dvc_yaml="dvc.yaml")


@app.command(name="explain")
@_friendly
def explain_lead(
    lead_id: Annotated[str, typer.Argument(help="the lead's id (params columns.id)")],
    scorer: Annotated[
        Path | None, typer.Option(help="lead scorer (default: the calibrate stage's, from dvc.yaml)")
    ] = None,
    raw: Annotated[Path | None, typer.Option(help="lead table holding the lead (default: generate's)")] = None,
    display: Annotated[
        Path | None, typer.Option(help="labels and actions (default: display.json beside the scorer, if any)")
    ] = None,
    trust_pickle: Annotated[
        bool,
        typer.Option(
            "--trust-pickle", help="allow a legacy pickled (.joblib) scorer: it can run code; only for your own files"
        ),
    ] = False,
) -> None:
    """Why this lead? Scores, quadrant, the top reasons for and against in fit and intent, and BANT."""
    from rich.console import Console

    from leadscore.console import explanation_panel
    from leadscore.io import read_table
    from leadscore.models.bant import bant_criteria
    from leadscore.models.explain import REASON_SEPARATOR
    from leadscore.models.persistence import load_display, load_scorer

    scorer = scorer or _pipeline_path("calibrate", "scorer_out")
    raw = raw or _pipeline_path("generate", "leads_out")
    model = load_scorer(scorer, trust_pickle=trust_pickle)
    beside = scorer.with_name("display.json")
    if display is not None or beside.is_file():
        model = model.with_display(load_display(display or beside))
    leads = read_table(raw)
    if model.id_column not in leads.columns:
        raise LeadscoreError(f"{raw}: no id column {model.id_column!r}")
    row = leads[leads[model.id_column].astype(str) == lead_id]
    if row.empty:
        raise LeadscoreError(f"lead {lead_id!r} not found in {raw} (column {model.id_column!r})")
    row = row.head(1)
    scored = model.predict(row, source=str(raw), explain=True).iloc[0]
    passed = bant_criteria(row, model.bant, source=str(raw), missing_values=model.featurizer.missing_values).iloc[0]
    values = {name: row[rule.column].iloc[0] for name, rule in model.bant.criteria.items()}
    panel = explanation_panel(
        lead_id,
        scored,
        passed,
        values,
        fit_threshold=model.fit_threshold,
        intent_threshold=model.intent_threshold,
        min_criteria=model.bant.min_criteria,
        separator=REASON_SEPARATOR,
    )
    Console().print(panel)


@app.command()
@_friendly
def profile(
    name: Annotated[
        str, typer.Argument(help="a profile under profiles/ (e.g. x_education) or a path to a profile file")
    ],
    dry_run: Annotated[bool, typer.Option(help="validate the profile and its data, change nothing")] = False,
) -> None:
    """Run the pipeline on a profile: write profiles/base.yaml overlaid with it to params.yaml, then `dvc exp run`.

    A profile states only what differs from profiles/base.yaml. params.yaml says which profile wrote
    it; running a profile again, or another one, rewrites it (never over edits made by hand). The run
    is a DVC experiment (see `dvc exp show`); nothing is committed. `leadscore profile synthetic`
    returns to the default data.
    """
    # --- issue 12: profiles are overlays (leadscore.profiles); no git involved ---
    import subprocess

    from leadscore.profiles import prepare_profile, write_params

    plan = prepare_profile(name, root=Path.cwd())
    console.print(f"profile {plan.source}: parameters valid, data found")
    if dry_run:  # changes nothing, so it is never refused: it says what a run would do
        if plan.blocked:
            console.print(f"a run would stop here: {plan.blocked}", highlight=False)
        else:
            console.print(f"a run would write {plan.target} ({plan.name} over profiles/base.yaml) and `dvc exp run`")
        return
    write_params(plan)
    console.print(f"wrote {plan.target} (profile {plan.name} over profiles/base.yaml); running `dvc exp run`")
    result = subprocess.run(["dvc", "exp", "run"], check=False)
    if result.returncode != 0:
        raise typer.Exit(code=result.returncode)
    from leadscore.console import print_summary

    print_summary(json.loads(_pipeline_path("evaluate", "metrics_out").read_text()))


@app.command()
@_friendly
def score(
    model: Annotated[
        str,
        typer.Option(help="models/ directory, a lead_scorer.json, or an MLflow URI such as models:/leadscore@champion"),
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
    trust_pickle: Annotated[
        bool,
        typer.Option(
            "--trust-pickle",
            help="allow a legacy pickled model (.joblib, old MLflow model): it can run code; only for your own files",
        ),
    ] = False,
    activities: Annotated[
        str | None,
        typer.Option(
            help="activity log (.csv/.parquet file or folder) for a model trained on one: each lead is scored "
            "as of --as-of (default: the reference date) with the events logged before then; column roles "
            "from --params (default ./params.yaml)"
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="the date the scores are as of (e.g. 2026-03-01), added as column as_of; with lead-table "
            "data (intent columns pre-aggregated) it only stamps the date, the leads' columns are used as given"
        ),
    ] = None,
    history: Annotated[
        str | None,
        typer.Option(
            help="score history to append to (needs --as-of): a directory (one Parquet file per as-of) or a "
            "SQLAlchemy URL; the same as-of again replaces that snapshot. Read by `leadscore changes`"
        ),
    ] = None,
    history_table: Annotated[str | None, typer.Option(help="history table (database history)")] = None,
    history_reasons: Annotated[
        int, typer.Option(help="strongest TreeSHAP contributions stored per lead and group (fit, intent)")
    ] = 5,
    drift: Annotated[
        bool, typer.Option(help="write the batch's drift report (PSI per column and score) and chart")
    ] = True,
    drift_out: Annotated[
        str | None, typer.Option(help="drift report (.json); default: <output>.drift.json beside a file output")
    ] = None,
    drift_chart: Annotated[
        str | None, typer.Option(help="drift chart (.png); default: beside the drift report")
    ] = None,
    params: Annotated[
        Path | None,
        typer.Option(
            help="params.yaml whose `drift` thresholds to use; with --activities also the lead table's and the "
            "log's column roles (default there: ./params.yaml)"
        ),
    ] = None,
) -> None:
    """Score a whole lead database in bounded chunks and write the scores atomically.

    Output: the predict stage's columns except the within-batch rank, plus model_name,
    model_version and scored_at (and as_of with --as-of). An interrupted run leaves the previous
    output (and history) untouched. Also writes the batch's drift report against the model's
    reference (JSON + PNG, by default beside the output) and prints its one-line summary; --no-drift
    turns it off.
    """
    from leadscore.scoring.batch import drift_target, load_model
    from leadscore.scoring.sinks import check_output_is_not_input
    from leadscore.scoring.sql import is_database_url

    if engine not in ("single", "dask"):
        raise LeadscoreError(f"--engine: expected single or dask, got {engine!r}")
    # --- issue 14, score history: --as-of stamps the scores; --history appends a snapshot ---
    from leadscore.scoring.history import open_history_writer, parse_as_of

    as_of_time = parse_as_of(as_of) if as_of is not None else None
    if history is not None and as_of_time is None:
        raise LeadscoreError("--history: needs --as-of DATE (the date this snapshot of scores is as of)")
    if history is not None and engine == "dask":
        raise LeadscoreError("--history: not with --engine dask yet; score with --engine single")
    if history_reasons < 1:
        raise LeadscoreError(f"--history-reasons: expected a positive number, got {history_reasons}")
    history_writer = (
        open_history_writer(history, as_of=as_of_time, table=history_table)
        if history is not None and as_of_time is not None
        else None
    )
    if history is None and history_table:
        raise LeadscoreError("--history-table: needs --history (a database URL)")
    # output-safety: refuse an output that is (or contains, or lies inside) the input before any work.
    check_output_is_not_input(input=input, output=output, input_table=table, output_table=output_table)
    with console.status(f"loading model {model}"):
        loaded = load_model(model, trust_pickle=trust_pickle)
    thresholds = _load(params).drift if params else None
    # --- issue 14: a model trained on an activity log reads each lead's point-in-time log features ---
    log_spec = getattr(loaded.scorer.featurizer, "activity_", None)
    if activities is not None and log_spec is None:
        raise LeadscoreError(f"--activities: {model} was trained on lead-table intent, not on an activity log")
    if log_spec is not None:
        if activities is None:
            raise LeadscoreError(
                f"{model}: the model was trained on an activity log; pass it with --activities (and --as-of DATE)"
            )
        if engine == "dask":
            raise LeadscoreError("--activities: not with --engine dask yet; score with --engine single")
        log_params_path = params if params is not None else Path("params.yaml")
        if not log_params_path.is_file():
            raise LeadscoreError(
                "--activities: needs --params (params.yaml with the lead table's and the log's column roles)"
            )
        log_params = _load(log_params_path)
        if as_of_time is None:
            from leadscore.features.intent_log import reference_date

            as_of_time = reference_date(log_params, activities)

    def drift_files():  # after the output's own checks, so an unwritable output is named first
        return drift_target(
            model=loaded,
            input=input,
            output=output,
            output_is_database=is_database_url(output),
            drift_out=drift_out,
            drift_chart=drift_chart,
            enabled=drift,
            thresholds=thresholds,
        )

    if engine == "dask":
        from leadscore.scoring.dask_engine import score_with_dask

        if table or query or output_table or mode != "replace" or as_of_time is not None:
            raise LeadscoreError(
                "--engine dask reads and writes Parquet only (no --table/--query/--output-table/--mode/--as-of)"
            )
        from leadscore.atomic import check_directory_target

        check_directory_target(output)
        drift_to, drift_note = drift_files()
        result = score_with_dask(
            model=loaded,
            input_path=input,
            output_dir=output,
            scheduler=scheduler,
            explain=explain,
            console=console if progress else None,
            drift=drift_to,
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
        if log_spec is not None and activities is not None and as_of_time is not None:
            from leadscore.scoring.activity_source import ActivityRowsSource

            source = ActivityRowsSource(source, params=log_params, events=activities, spec=log_spec, as_of=as_of_time)
        sink = open_sink(output, table=output_table, mode=mode, id_column=loaded.scorer.id_column)
        drift_to, drift_note = drift_files()
        result = score_batches(
            model=loaded,
            source=source,
            sink=sink,
            chunk_size=chunk_size,
            explain=explain,
            console=console,
            show_progress=progress,
            as_of=as_of_time,
            history=history_writer,
            history_top=history_reasons,
            drift=drift_to,
        )
        target = sink.description
    console.print(
        f"scored {result.rows:,} leads with {loaded.name} {loaded.version} in {result.seconds:.1f} s "
        f"({result.leads_per_second:,.0f} leads/s) -> {target}",
        highlight=False,
    )
    if result.drift is not None:
        console.print(f"{result.drift['summary']} -> {', '.join(result.drift_files)}", highlight=False)
    elif drift_note:
        console.print(drift_note, highlight=False)
    if history_writer is not None:
        console.print(f"history: {history_writer.rows:,} leads -> {history_writer.description}", highlight=False)


@app.command()
@_friendly
def changes(
    history: Annotated[
        str, typer.Option(help="score history: a directory or a SQLAlchemy URL (written by score --history)")
    ],
    since: Annotated[
        str, typer.Option(help="compare the latest snapshot with the latest one at/before this date (2026-03-01)")
    ],
    top: Annotated[int | None, typer.Option(help="leads to show (default: params history.top)")] = None,
    lead: Annotated[list[str] | None, typer.Option(help="only this lead id (repeatable)")] = None,
    out: Annotated[str | None, typer.Option(help="also write the result: .csv or .json")] = None,
    history_table: Annotated[str | None, typer.Option(help="history table (database history)")] = None,
    display: Annotated[
        Path | None,
        typer.Option(help="labels for reasons (default: the predict stage's display.json, from dvc.yaml, if present)"),
    ] = None,
    params: Annotated[
        Path | None, typer.Option(help="params.yaml with the `history` settings (default: ./params.yaml if present)")
    ] = None,
) -> None:
    """Leads whose quadrant or conversion probability moved most since a date, the reasons that changed, and trends.

    Baseline: the latest snapshot at/before --since; compared with the latest snapshot. Reasons are the
    TreeSHAP contributions (log-odds) stored with each snapshot, before -> after; "-" = not among the
    lead's strongest then. Trend: the fitted change of p(conversion) over every snapshot since the
    baseline (rising / steady / falling; tolerance params history.trend_tolerance).
    """
    # --- issue 14, score history ---
    from leadscore.config import HistoryConfig
    from leadscore.console import print_changes
    from leadscore.io import write_json, write_table
    from leadscore.models.persistence import load_display
    from leadscore.monitoring.changes import changes_json, changes_since, changes_table
    from leadscore.scoring.history import open_history, parse_as_of

    if params is None and Path("params.yaml").is_file():
        params = Path("params.yaml")
    config = _load(params).history if params is not None else HistoryConfig()
    if out is not None and Path(out).suffix.lower() not in (".csv", ".json"):
        raise LeadscoreError(f"--out {out}: expected a .csv or .json file")
    labels: dict[str, str] = {}
    if display is None and Path("dvc.yaml").is_file():
        beside = _pipeline_path("predict", "display_out")
        display = beside if beside.is_file() else None
    if display is not None:
        labels = dict(load_display(display).labels)
    report = changes_since(
        open_history(history, table=history_table),
        since=parse_as_of(since, what="--since"),
        top=config.top if top is None else top,
        leads=lead or None,
        labels=labels,
        trend_tolerance=config.trend_tolerance,
        min_reason_delta=config.min_reason_delta,
        max_reasons=config.max_reasons,
    )
    print_changes(report)
    if out is not None:
        if out.lower().endswith(".json"):
            write_json(changes_json(report), out)
        else:
            write_table(changes_table(report), out)
        console.print(f"wrote {out}", highlight=False)


# --- monitoring (issue 11, monitoring lane): `leadscore drift` and `leadscore monitor` --------------
@app.command()
@_friendly
def drift(
    model: Annotated[
        str,
        typer.Option(help="models/ directory, a .joblib scorer, or an MLflow URI such as models:/leadscore@champion"),
    ],
    input: Annotated[
        str, typer.Option("--input", help="leads: .csv, .parquet, a directory of Parquet files, or a SQLAlchemy URL")
    ],
    out: Annotated[str, typer.Option(help="drift report to write (.json)")],
    chart: Annotated[str | None, typer.Option(help="PSI chart to write (.png)")] = None,
    table: Annotated[str | None, typer.Option(help="input table (database input)")] = None,
    query: Annotated[str | None, typer.Option(help="input SELECT (database input), run as given")] = None,
    chunk_size: Annotated[int, typer.Option(help="rows per chunk: bounds memory")] = 100_000,
    params: Annotated[Path | None, typer.Option(help="params.yaml whose `drift` thresholds to use")] = None,
) -> None:
    """Compare a batch of leads (and the model's scores of them) with the model's reference distributions.

    Writes PSI per input column and per score with ok / warn / alert, the share of unseen categories and
    the change in missing rate; prints the one-line summary.
    """
    from leadscore.io import write_bytes, write_json
    from leadscore.monitoring.drift import drift_png, drift_report_for_source
    from leadscore.scoring.batch import load_model
    from leadscore.scoring.sources import open_source

    thresholds = _load(params).drift if params else None
    with console.status(f"loading model {model}"):
        loaded = load_model(model)
    source = open_source(input, table=table, query=query)
    with console.status("scoring and binning leads"):
        report = drift_report_for_source(
            loaded.scorer, source, chunk_size=chunk_size, thresholds=thresholds, model_description=model
        )
    report["model"] = {"name": loaded.name, "version": loaded.version}
    report["input"] = source.description
    png = drift_png(report) if chart else None  # rendered before anything is written
    write_json(report, out)
    if png is not None and chart:
        write_bytes(png, chart)
    console.print(report["summary"], highlight=False)


@app.command()
@_friendly
def monitor(
    scores: Annotated[str, typer.Option(help="scored leads (.parquet/.csv), e.g. the output of `leadscore score`")],
    outcomes: Annotated[str, typer.Option(help="outcomes (.parquet/.csv): an id and a won/lost column")],
    out: Annotated[str, typer.Option(help="monitor report to write (.json)")],
    chart: Annotated[str | None, typer.Option(help="reliability-by-decile chart to write (.png)")] = None,
    id_column: Annotated[str, typer.Option(help="lead id column in both files (matched as text)")] = "lead_id",
    outcome_column: Annotated[str, typer.Option(help="outcome column in the outcomes file")] = "status",
    won: Annotated[list[str] | None, typer.Option(help="outcome value meaning won (repeatable)")] = None,
    lost: Annotated[list[str] | None, typer.Option(help="outcome value meaning lost (repeatable)")] = None,
    reference_metrics: Annotated[
        str | None, typer.Option(help="the model's metrics.json (evaluate): its test AUC and base rate to compare with")
    ] = None,
    params: Annotated[Path | None, typer.Option(help="params.yaml whose `monitor` thresholds to use")] = None,
) -> None:
    """Once scored leads have closed: observed vs predicted by decile, ECE, AUC vs BANT, base-rate shift, verdict."""
    from leadscore.io import read_table, write_bytes, write_json
    from leadscore.monitoring.outcomes import join_outcomes, monitor_outcomes, reliability_png

    config = _load(params).monitor if params else None
    reference_auc = reference_base_rate = None
    if reference_metrics:
        path = Path(reference_metrics)
        if not path.is_file():
            raise LeadscoreError(f"{path}: reference metrics not found (the metrics.json written by evaluate)")
        try:
            metrics = json.loads(path.read_text())
            reference_auc = float(metrics["test"]["conversion"]["auc"])
            reference_base_rate = float(metrics["data"]["test_base_rate"])
        except (ValueError, KeyError, TypeError):
            raise LeadscoreError(
                f"{path}: expected evaluate's metrics.json with test.conversion.auc and data.test_base_rate"
            ) from None
    joined, counts = join_outcomes(
        read_table(scores),
        read_table(outcomes),
        id_column=id_column,
        outcome_column=outcome_column,
        won_values=tuple(won or ("won",)),
        lost_values=tuple(lost or ("lost",)),
        scores_source=scores,
        outcomes_source=outcomes,
    )
    result = monitor_outcomes(
        joined, config=config, reference_auc=reference_auc, reference_base_rate=reference_base_rate, counts=counts
    )
    png = reliability_png(result) if chart and result.get("deciles") else None
    write_json(result, out)
    if png is not None and chart:
        write_bytes(png, chart)
    console.print(result["reason"], highlight=False)


# --- retraining (issue 11, retraining lane): `leadscore promote` and `leadscore rollback` -----------
@app.command()
@_friendly
def promote(
    version: Annotated[str, typer.Argument(help="registered model version to make @champion")],
    reason: Annotated[str, typer.Option(help="why (stored as a tag on the version)")] = "promoted by hand",
    params: Annotated[Path, typer.Option(help="params.yaml (mlflow section)")] = Path("params.yaml"),
) -> None:
    """Make a registered model version the @champion; the one it replaces becomes @previous-champion."""
    from leadscore import tracking

    result = tracking.promote(_load(params), version, reason=reason)
    before = f" (was v{result['previous_champion']})" if result["previous_champion"] else ""
    console.print(f"{result['registered_model']}@champion -> v{result['champion']}{before}", highlight=False)


@app.command()
@_friendly
def rollback(
    reason: Annotated[str, typer.Option(help="why (stored as a tag on both versions)")] = "rolled back by hand",
    params: Annotated[Path, typer.Option(help="params.yaml (mlflow section)")] = Path("params.yaml"),
) -> None:
    """Put the previous champion back as @champion (the registry remembers every champion in order)."""
    from leadscore import tracking

    result = tracking.rollback(_load(params), reason=reason)
    console.print(
        f"{result['registered_model']}@champion -> v{result['champion']} (rolled back from v{result['rolled_back']})",
        highlight=False,
    )


@app.command()
@_friendly
def summary(
    metrics: Annotated[
        Path | None, typer.Argument(help="metrics.json written by evaluate (default: dvc.yaml's)")
    ] = None,
) -> None:
    """Print the model vs BANT vs oracle table from a metrics file."""
    from leadscore.console import print_summary

    metrics = metrics or _pipeline_path("evaluate", "metrics_out")
    if not metrics.is_file():
        raise LeadscoreError(f"{metrics}: not found (run `dvc repro` first)")
    print_summary(json.loads(metrics.read_text()))


if __name__ == "__main__":  # pragma: no cover
    app()
