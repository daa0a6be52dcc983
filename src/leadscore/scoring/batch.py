"""The single-process score loop: source chunks -> ``LeadScorer.predict`` -> sink, with a progress bar.

Rank rule: the predict stage's ``rank`` is a rank *within one call*, so for chunked scoring it would
depend on the chunk size. Batch outputs therefore omit it; rank globally where the scores land
(``ORDER BY conversion_probability DESC`` or ``RANK() OVER (...)`` in SQL, a sort in pandas).
Every other predict-stage column is kept, followed by ``model_name``, ``model_version`` and
``scored_at`` (one UTC timestamp per run).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from leadscore.atomic import check_file_target
from leadscore.config import DriftConfig
from leadscore.data.contract import ContractCheck, contract_of
from leadscore.errors import LeadscoreError, OutputError
from leadscore.io import sha256_file, write_bytes, write_json
from leadscore.models.scorer import SCORE_COLUMNS, LeadScorer
from leadscore.scoring.checks import score_checked

META_COLUMNS = ("model_name", "model_version", "scored_at")
BATCH_SCORE_COLUMNS = tuple(c for c in SCORE_COLUMNS if c != "rank")
DEFAULT_CHUNK_SIZE = 100_000
SCORER_FILE = "lead_scorer.json"
# Display text (labels, actions) beside the scorer; optional (without it: humanised names, default actions).
DISPLAY_FILE = "display.json"


@dataclass(frozen=True)
class LoadedModel:
    """A LeadScorer plus the name and version written beside every score."""

    scorer: LeadScorer
    name: str
    version: str


def load_model(model: str, *, trust_pickle: bool = False) -> LoadedModel:
    """Load the scorer from a models/ directory, a lead_scorer.json file, or an MLflow URI (``models:/...``,
    ``runs:/...``), with the display text in ``display.json`` beside it when there is one.

    A local file's version is the first 12 hex digits of its sha256, so outputs say exactly which
    model scored them; a registered model's is its registry version. Model files are data; a legacy
    pickled (.joblib) scorer is refused unless ``trust_pickle`` (it can run code when loaded).
    """
    if "://" in model or model.startswith(("models:/", "runs:/")):
        from leadscore import tracking

        return LoadedModel(*tracking.load_scorer_from_uri(model, trust_pickle=trust_pickle))
    from leadscore.models.persistence import load_display, load_scorer

    path = Path(model)
    if path.is_dir():
        path = path / SCORER_FILE
    if not path.is_file():
        raise LeadscoreError(
            f"{path}: model file not found (give the models/ directory after `dvc repro`, a lead_scorer.json, "
            "or models:/leadscore@champion)"
        )
    scorer = load_scorer(path, trust_pickle=trust_pickle)
    display_path = path.with_name(DISPLAY_FILE)
    if display_path.is_file():
        scorer = scorer.with_display(load_display(display_path))
    return LoadedModel(scorer, path.stem, f"sha256:{sha256_file(path)[:12]}")


def check_explain_supported(scorer) -> None:
    """Raise unless ``scorer.predict`` takes ``explain=`` (reason columns)."""
    if "explain" not in inspect.signature(scorer.predict).parameters:
        raise LeadscoreError(
            "--explain: explanations need leadscore with explain support "
            "(this scorer's predict() has no explain option)"
        )


def score_frame(
    raw: pd.DataFrame,
    *,
    model: LoadedModel,
    scored_at: pd.Timestamp,
    explain: bool = False,
    source: str = "lead table",
    contract_checked: bool = False,
) -> pd.DataFrame:
    """Score one chunk of raw leads: predict-stage columns without ``rank``, plus model and time columns.

    ``contract_checked=True``: the caller checks the whole input with :func:`input_check` (ids
    unique across chunks, type errors counted over every chunk); otherwise this chunk is checked
    on its own as a whole table.
    """
    scored = score_checked(model.scorer, raw, source=source, explain=explain, contract_checked=contract_checked).drop(
        columns="rank"
    )
    scored["model_name"] = model.name
    scored["model_version"] = model.version
    scored["scored_at"] = pd.Series(scored_at, index=scored.index, dtype="datetime64[us, UTC]")
    return scored.reset_index(drop=True)


def input_check(model: LoadedModel, *, source: str) -> ContractCheck:
    """A whole-input check against the model's input contract (ids only for a scorer without one)."""
    return ContractCheck(contract_of(model.scorer), id_column=model.scorer.id_column, source=source)


def empty_output(model: LoadedModel) -> pd.DataFrame:
    """Zero scored rows with the output's columns (an empty source still replaces the output)."""
    columns = [model.scorer.id_column, *BATCH_SCORE_COLUMNS, *META_COLUMNS]
    return pd.DataFrame({c: pd.Series([], dtype="object") for c in columns})


def run_timestamp() -> pd.Timestamp:
    """The run's ``scored_at``: now, UTC, to the microsecond."""
    return pd.Timestamp.now(tz="UTC").floor("us")


class LeadsPerSecondColumn(ProgressColumn):
    """Rich progress column: scoring speed in leads per second."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- leads/s" if speed is None else f"{speed:,.0f} leads/s", style="progress.data.speed")


@dataclass(frozen=True)
class ScoreSummary:
    rows: int
    seconds: float
    # The batch's drift report (None when none was asked for) and the files it was written to.
    drift: dict[str, Any] | None = None
    drift_files: tuple[str, ...] = field(default=())

    @property
    def leads_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")


# -- the batch's drift report ----------------------------------------------------------------------
@dataclass(frozen=True)
class DriftTarget:
    """Where a scoring run writes its drift report: ``report`` (JSON) and ``chart`` (PNG, or None)."""

    report: Path
    chart: Path | None = None
    thresholds: DriftConfig | None = None


def default_drift_paths(output: str | Path) -> tuple[Path, Path]:
    """``<output>.drift.json`` and ``<output>.drift.png`` beside a file or directory output.

    The full output name is kept (``scores.parquet.drift.json``) so ``scores.csv`` and
    ``scores.parquet`` in one folder get distinct reports.
    """
    output = Path(output)
    return output.with_name(f"{output.name}.drift.json"), output.with_name(f"{output.name}.drift.png")


def _chart_beside(report: Path) -> Path:
    return report.with_suffix(".png") if report.suffix.lower() == ".json" else report.with_name(f"{report.name}.png")


def has_drift_reference(scorer) -> bool:
    """True if ``scorer`` carries the drift reference the calibrate stage stores."""
    return (getattr(scorer, "extras", None) or {}).get("drift_reference") is not None


def drift_target(
    *,
    model: LoadedModel,
    output: str,
    output_is_database: bool,
    input: str,
    drift_out: str | None = None,
    drift_chart: str | None = None,
    enabled: bool = True,
    thresholds: DriftConfig | None = None,
) -> tuple[DriftTarget | None, str | None]:
    """Resolve ``leadscore score``'s drift options to a :class:`DriftTarget` (or None) and a note why not.

    - A model without a drift reference: no report (a note), or an error if a path was asked for.
    - ``drift_out`` given: the report goes there; the chart to ``drift_chart`` or beside the report
      (``x.json`` -> ``x.png``).
    - Otherwise, beside a file or directory output (:func:`default_drift_paths`); a database output
      has no "beside", so no report unless ``drift_out`` is given (the note says so).
    - A path the user did not name (a default or a derived chart) never replaces a file leadscore did
      not write as a drift output (:func:`leadscore.monitoring.drift.is_drift_output`).
    - No path may be the input or the scores output.

    Raises
    ------
    LeadscoreError
        On contradictory options or a path that would replace something else.
    """
    from leadscore.monitoring.drift import is_drift_output

    if not enabled:
        if drift_out or drift_chart:
            raise LeadscoreError("--no-drift: cannot be combined with --drift-out/--drift-chart")
        return None, None
    if not has_drift_reference(model.scorer):
        if drift_out or drift_chart:
            from leadscore.monitoring.drift import drift_accumulator

            drift_accumulator(model.scorer, model_description=f"{model.name} {model.version}")  # raises, names it
        return None, f"no drift report: {model.name} {model.version} has no drift reference (retrain with `dvc repro`)"
    if drift_out:
        report, named_report = Path(drift_out), True
    elif output_is_database:
        if drift_chart:
            raise LeadscoreError("--drift-chart: give --drift-out too for a database output (no file to write beside)")
        return None, "no drift report for a database output: give --drift-out PATH to write one"
    else:
        report, named_report = default_drift_paths(output)[0], False
    chart = (
        Path(drift_chart)
        if drift_chart
        else (default_drift_paths(output)[1] if not named_report else _chart_beside(report))
    )
    named = {report: named_report, chart: bool(drift_chart)}
    if report.resolve() == chart.resolve():
        raise LeadscoreError(f"--drift-chart: {chart} is also the drift report; give another name")
    for path, by_user in named.items():
        option = "--drift-out" if path == report else "--drift-chart"
        for other, what in ((input, "--input"), (output, "--output")):
            if _same_path(path, other):
                raise OutputError(f"{path}: is the {what} itself; give another {option}")
        check_file_target(path)
        if not by_user and os.path.lexists(path) and not is_drift_output(path):
            raise OutputError(
                f"{path}: exists and was not written by leadscore as a drift report; refusing to replace it "
                f"(give {option} PATH, or --no-drift)"
            )
    return DriftTarget(report=report, chart=chart, thresholds=thresholds), None


def _same_path(path: Path, other: str) -> bool:
    if "://" in other:
        return False
    target = Path(other)
    try:
        return path.resolve() == target.resolve() or (
            path.exists() and target.exists() and os.path.samefile(path, target)
        )
    except OSError:
        return False


def finish_drift(accumulator, *, target: DriftTarget, model: LoadedModel, input: str, output: str):
    """The report (with model, input and output named) and its chart's PNG bytes, nothing written yet."""
    from leadscore.monitoring.drift import drift_png

    report = accumulator.report(target.thresholds)
    report["model"] = {"name": model.name, "version": model.version}
    report["input"] = input
    report["output"] = output
    return report, (drift_png(report) if target.chart is not None else None)


def write_drift(report: dict[str, Any], png: bytes | None, *, target: DriftTarget) -> tuple[str, ...]:
    """Write the report and chart atomically (each one whole or not at all); return the paths written."""
    write_json(report, target.report)
    if png is not None and target.chart is not None:
        write_bytes(png, target.chart)
        return (str(target.report), str(target.chart))
    return (str(target.report),)


def score_batches(
    *,
    model: LoadedModel,
    source,
    sink,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    explain: bool = False,
    scored_at: pd.Timestamp | None = None,
    console: Console | None = None,
    show_progress: bool = True,
    as_of: pd.Timestamp | None = None,
    history=None,
    history_top: int = 5,
    drift: DriftTarget | None = None,
) -> ScoreSummary:
    """Stream ``source`` through the scorer into ``sink``; the sink commits only if every chunk succeeds.

    ``as_of``: stamped on every output row (column ``as_of``); for a lead table it only labels the
    scores, the lead's columns are what they are. ``history``: a score-history writer
    (:func:`leadscore.scoring.history.open_history_writer`) that also gets each chunk's snapshot rows,
    with the ``history_top`` strongest contributions per group; it commits after the sink, only if
    every chunk succeeds.

    With ``drift``, each chunk's raw columns and probabilities are also counted into the model's
    drift reference bins (integer counts only: memory stays bounded, the report is the same at any
    chunk size). The report and chart are rendered before the scores are committed and written
    right after, so a failed run writes neither.
    """
    if chunk_size < 1:
        raise LeadscoreError(f"--chunk-size: expected a positive number of rows, got {chunk_size}")
    if explain:
        check_explain_supported(model.scorer)
    accumulator = None
    if drift is not None:
        from leadscore.monitoring.drift import drift_accumulator

        # Before any work: a model without a reference is refused here, not after scoring.
        accumulator = drift_accumulator(model.scorer, model_description=f"{model.name} {model.version}")
    scored_at = scored_at or run_timestamp()
    columns = list(model.scorer.input_columns)
    total = source.count()
    start = time.perf_counter()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("scoring"),
        BarColumn(),
        MofNCompleteColumn(),
        LeadsPerSecondColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not show_progress,
        # The default 30 s speed window smooths chunky updates into a readable rate.
        speed_estimate_period=60,
    )
    check = input_check(model, source=source.description)
    with progress, contextlib.nullcontext() if history is None else history, sink:
        task = progress.add_task("scoring", total=total)
        for chunk in source.iter_chunks(columns, chunk_size):
            # The verdict is taken over the whole input (the same at any chunk size): once a refusing
            # violation is seen, chunks are only counted, no longer scored, and finish() raises
            # inside the sink's block, so the sink discards everything and the old output stays.
            check.update(chunk)
            if not check.refused:
                scored = score_frame(
                    chunk,
                    model=model,
                    scored_at=scored_at,
                    explain=explain,
                    source=source.description,
                    contract_checked=True,
                )
                if as_of is not None:
                    scored["as_of"] = pd.Series(as_of, index=scored.index, dtype="datetime64[us]")
                if accumulator is not None:
                    accumulator.update(chunk, scored, source=source.description)
                sink.write(scored)
                if history is not None:
                    rows = _history_rows(model, chunk, scored, history, source=source.description, top=history_top)
                    history.write(rows)
            progress.advance(task, len(chunk))
        check.finish()
        if sink.rows == 0:
            sink.write(empty_output(model))
        report = png = None
        if accumulator is not None and drift is not None:
            report, png = finish_drift(
                accumulator, target=drift, model=model, input=source.description, output=sink.description
            )
        seconds = time.perf_counter() - start
    files = write_drift(report, png, target=drift) if report is not None and drift is not None else ()
    return ScoreSummary(rows=sink.rows, seconds=seconds, drift=report, drift_files=files)


def _history_rows(model: LoadedModel, chunk: pd.DataFrame, scored: pd.DataFrame, history, *, source: str, top: int):
    """The history rows of one scored chunk (TreeSHAP contributions computed here, once per chunk)."""
    from leadscore.scoring.history import contribution_columns, snapshot_rows

    contributions = contribution_columns(model.scorer, chunk, top=top, source=source)
    return snapshot_rows(
        scored,
        contributions,
        id_column=model.scorer.id_column,
        as_of=history.as_of,
        model_name=model.name,
        model_version=model.version,
    )
