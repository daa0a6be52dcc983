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
import time
from dataclasses import dataclass
from pathlib import Path

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

from leadscore.data.contract import ContractCheck, contract_of
from leadscore.errors import LeadscoreError
from leadscore.io import sha256_file
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

    @property
    def leads_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")


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
) -> ScoreSummary:
    """Stream ``source`` through the scorer into ``sink``; the sink commits only if every chunk succeeds.

    ``as_of``: stamped on every output row (column ``as_of``); for a lead table it only labels the
    scores, the lead's columns are what they are. ``history``: a score-history writer
    (:func:`leadscore.scoring.history.open_history_writer`) that also gets each chunk's snapshot rows,
    with the ``history_top`` strongest contributions per group; it commits after the sink, only if
    every chunk succeeds.
    """
    if chunk_size < 1:
        raise LeadscoreError(f"--chunk-size: expected a positive number of rows, got {chunk_size}")
    if explain:
        check_explain_supported(model.scorer)
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
                sink.write(scored)
                if history is not None:
                    rows = _history_rows(model, chunk, scored, history, source=source.description, top=history_top)
                    history.write(rows)
            progress.advance(task, len(chunk))
        check.finish()
        if sink.rows == 0:
            sink.write(empty_output(model))
        seconds = time.perf_counter() - start
    return ScoreSummary(rows=sink.rows, seconds=seconds)


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
