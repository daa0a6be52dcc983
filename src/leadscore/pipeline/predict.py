"""Stage ``predict``: score the open leads (quadrant, calibrated probabilities, action, BANT, rank)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from leadscore.pipeline.common import DEFAULT_PARAMS, ParamsOpt, console, friendly, load, main, status

if TYPE_CHECKING:
    import pandas as pd

    from leadscore.config import Params

log = logging.getLogger(__name__)


def run(
    params: Params,
    *,
    raw: str,
    features: str,
    scorer: str,
    out: list[str],
    display_out: str | None = None,
    explain: bool = False,
    drift_out: str | None = None,
    drift_chart: str | None = None,
    activities: str | None = None,
    as_of: str | None = None,
    history: str | None = None,
    history_table: str | None = None,
) -> pd.DataFrame:
    """Score the open leads; write one file per path in ``out`` (.parquet / .csv).

    With ``explain``, each lead also gets its top reasons for and against in fit and in intent.
    Labels and actions come from params (explain.labels, quadrants.actions); ``display_out`` also
    writes them as display.json, which batch scoring and the MLflow model read beside the scorer.
    ``drift_out`` / ``drift_chart``: the open leads' drift report against the model's reference
    (JSON / PNG; params ``drift``).

    ``as_of`` (a date) adds column ``as_of``. A scorer trained on an activity log scores the open
    leads as of that date (default: the reference date) at their current age, with features from
    ``activities`` (events strictly before then), and the output gains ``age_days``; with lead-table
    data the as-of date only labels the scores (the leads' columns hold one moment). With ``history``
    (a directory or SQLAlchemy URL, table ``history_table``) the scores are also appended to the score
    history as of that date (:mod:`leadscore.scoring.history`; params ``history``).
    """
    from leadscore.data.outcomes import OPEN
    from leadscore.errors import DataValidationError, LeadscoreError
    from leadscore.io import read_table, write_table
    from leadscore.models.persistence import load_scorer, save_display
    from leadscore.models.scorer import display_from_params
    from leadscore.pipeline.tables import read_raw_leads, rows_in

    if history is not None and as_of is None:
        raise LeadscoreError("--history: needs --as-of DATE (the date this snapshot of scores is as of)")

    display = display_from_params(params)
    if display_out:
        save_display(display, display_out)
    model = load_scorer(scorer).with_display(display)
    if getattr(model.featurizer, "activity_", None) is not None:
        from leadscore.pipeline.activity import open_leads_as_of

        if activities is None:
            raise DataValidationError(f"{scorer}: the model reads an activity log; pass --activities")
        open_leads = open_leads_as_of(params, raw=raw, activities=activities, featurizer=model.featurizer, as_of=as_of)
    else:
        leads = read_raw_leads(params, raw)
        open_leads = leads[rows_in(read_table(features), OPEN)]
    if not len(open_leads):
        log.warning("%s: no open leads to score", raw)
    # Open leads of the export featurize learned the contract from: checked there already.
    scored = model.predict(open_leads, source=raw, explain=explain, contract_checked=True)
    if "as_of" in open_leads.columns:
        scored["as_of"] = open_leads["as_of"].to_numpy()
        scored["age_days"] = open_leads["age_days"].to_numpy()
    report = None
    if drift_out or drift_chart:
        from leadscore.monitoring.drift import drift_accumulator, drift_png

        # Scores are row-aligned with the open leads until sorted below.
        accumulator = drift_accumulator(model, model_description=scorer)
        report = accumulator.update(open_leads, scored, source=raw).report(params.drift)
        report["input"] = f"{raw} (open leads)"
        png = drift_png(report) if drift_chart else None
    # --- issue 14, score history (contributions row-aligned with the open leads, so before the sort) ---
    as_of_time = history_rows = None
    if as_of is not None:
        as_of_time, history_rows = _stamp_as_of(
            params, scored, open_leads, model, as_of=as_of, history=history, scorer=scorer
        )
    scored = scored.sort_values("rank", kind="stable").reset_index(drop=True)
    for path in out:
        write_table(scored, path)
    if report is not None:
        from leadscore.io import write_bytes, write_json

        if drift_out:
            write_json(report, drift_out)
        if drift_chart and png is not None:
            write_bytes(png, drift_chart)
        scored.attrs["drift_summary"] = report["summary"]
    if history is not None and as_of_time is not None and history_rows is not None:
        from leadscore.scoring.history import open_history_writer

        with open_history_writer(history, as_of=as_of_time, table=history_table) as writer:
            writer.write(history_rows)
        scored.attrs["history"] = f"history: {writer.rows:,} leads -> {writer.description}"
    return scored


def _stamp_as_of(params, scored, open_leads, model, *, as_of: str, history: str | None, scorer: str):
    """Add column ``as_of`` to ``scored`` (in place); return the as-of time and, with ``history``, the rows."""
    import pandas as pd

    from leadscore.io import sha256_file
    from leadscore.scoring.history import contribution_columns, parse_as_of, snapshot_rows

    as_of_time = parse_as_of(as_of)
    scored["as_of"] = pd.Series(as_of_time, index=scored.index, dtype="datetime64[us]")
    if history is None:
        return as_of_time, None
    contributions = contribution_columns(model, open_leads, top=params.history.top_contributions, source="open leads")
    return as_of_time, snapshot_rows(
        scored,
        contributions,
        id_column=model.id_column,
        as_of=as_of_time,
        model_name=Path(scorer).stem,
        model_version=f"sha256:{sha256_file(scorer)[:12]}",
    )


@friendly
def command(
    raw: Annotated[str, typer.Option()],
    features: Annotated[str, typer.Option(help="a feature table (for the open split)")],
    scorer: Annotated[str, typer.Option()],
    out: Annotated[list[str], typer.Option(help="output file(s), .parquet or .csv; repeat for several")],
    display_out: Annotated[str | None, typer.Option(help="labels and actions (display.json) to write")] = None,
    explain: Annotated[bool, typer.Option("--explain", help="add each lead's top reasons for/against")] = False,
    drift_out: Annotated[str | None, typer.Option(help="drift report of the open leads (.json) to write")] = None,
    drift_chart: Annotated[str | None, typer.Option(help="drift chart (.png) to write")] = None,
    activities: Annotated[str | None, typer.Option(help="activity log (models trained on one)")] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="date the scores are as of, e.g. 2026-06-15 (column as_of): a model trained on an activity log "
            "scores the leads as of then; with lead-table data it only stamps the date"
        ),
    ] = None,
    history: Annotated[
        str | None, typer.Option(help="score history to append to (needs --as-of): a directory or a SQLAlchemy URL")
    ] = None,
    history_table: Annotated[str | None, typer.Option(help="history table (database history)")] = None,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> None:
    """Score the open leads: quadrant, calibrated conversion probability, action, BANT, rank."""
    with status("scoring open leads"):
        scored = run(
            load(params),
            raw=raw,
            features=features,
            scorer=scorer,
            out=out,
            display_out=display_out,
            explain=explain,
            drift_out=drift_out,
            drift_chart=drift_chart,
            activities=activities,
            as_of=as_of,
            history=history,
            history_table=history_table,
        )
    console.print(f"scored {len(scored):,} open leads; quadrants: {scored['quadrant'].value_counts().to_dict()}")
    if "drift_summary" in scored.attrs:
        console.print(scored.attrs["drift_summary"], highlight=False)
    if "history" in scored.attrs:
        console.print(scored.attrs["history"], highlight=False)


if __name__ == "__main__":
    main(command)
