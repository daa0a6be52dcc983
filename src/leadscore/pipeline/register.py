"""Stage ``register``: one MLflow run per pipeline run, the composite model registered as @challenger,
and @champion when it beats the current champion on the same leads (the new test split)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadscore.pipeline.common import DEFAULT_PARAMS, ParamsOpt, console, friendly, load, main, status

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from leadscore.config import Params
    from leadscore.models.scorer import LeadScorer


def example_rows(leads: pd.DataFrame, *, n: int = 5) -> pd.DataFrame:
    """The ``n`` most complete leads (most filled-in columns; ties by position): the model's input example.

    Not the open leads: an export's open leads often leave whole columns blank, and scoring the example
    then warns that a column "is entirely missing in this batch".
    """
    import numpy as np

    filled = leads.notna().sum(axis=1).to_numpy()
    order = np.argsort(-filled, kind="stable")[:n]
    return leads.iloc[np.sort(order)]


def run(
    params: Params,
    *,
    params_path: str,
    raw: str,
    features: str,
    scorer: str,
    display: str | None = None,
    fit_model: str,
    intent_model: str,
    metrics: str,
    run_out: str,
    promotion_out: str | None = None,
    artifact: list[str] | None = None,
    tuning: list[str] | None = None,
    activities: str | None = None,
) -> dict[str, Any]:
    """Decide champion vs challenger on the same leads, log this pipeline run to MLflow and register the
    composite model (see :mod:`leadscore.tracking`); write the decision to ``promotion_out``.

    ``tuning``: the train stages' tuning reports; searches that ran (params ``train.tune``) are logged
    under this run, one child run per trial, and attached to it."""
    import json

    from leadscore import tracking  # imports MLflow: only this stage pays for it
    from leadscore.errors import DataValidationError
    from leadscore.io import read_table, sha256_file, write_json
    from leadscore.models.persistence import load_scorer
    from leadscore.pipeline.tables import read_raw_leads

    # Every input is checked before anything is logged: a missing one is one error line, not a traceback.
    if not Path(metrics).is_file():
        raise DataValidationError(f"{metrics}: not found (run the evaluate stage first)")
    for path in tuning or []:
        if not Path(path).is_file():
            raise DataValidationError(f"{path}: not found (run the train stages first)")
    searches = [json.loads(Path(path).read_text()) for path in tuning or []]
    leads = read_raw_leads(params, raw)
    table = read_table(features)
    from leadscore.pipeline.activity import is_activity_table, table_rows

    if is_activity_table(table):  # issue 14: rows are leads at one age, read with their log features
        featurizer = load_scorer(scorer).featurizer
        leads = table_rows(params, leads=leads, table=table, activities=activities, featurizer=featurizer)
        # Scorers read one row per lead (ids are unique in any input): each lead at its latest snapshot.
        last = ~table[params.columns.id].duplicated(keep="last").to_numpy()
        leads, table = leads[last].reset_index(drop=True), table[last].reset_index(drop=True)
    example = example_rows(leads)
    promotion = promotion_decision(
        params, leads=leads, table=table, challenger=load_scorer(scorer), load_champion=tracking.load_champion
    )
    summary = tracking.log_pipeline_run(
        params,
        params_path=params_path,
        metrics=json.loads(Path(metrics).read_text()),
        scorer_path=scorer,
        display_path=display,  # labels/actions travel beside the scorer
        fit_model_path=fit_model,
        intent_model_path=intent_model,
        input_example=example,
        data_fingerprint=sha256_file(raw),
        artifacts=[metrics, *(artifact or []), *(tuning or [])],
        promotion=promotion,
    )
    if any(s.get("enabled") for s in searches):
        children = tracking.log_tuning(params, parent_run_id=summary["run_id"], reports=searches)
        summary = {**summary, "tuning_child_runs": {group: len(ids) for group, ids in children.items()}}
    if promotion_out:
        write_json(promotion, promotion_out)
    # The run summary carries the whole decision too (promotion.json holds the same dict).
    summary = {**summary, "promotion": promotion}
    write_json(summary, run_out)
    return summary


def promotion_decision(
    params: Params,
    *,
    leads: pd.DataFrame,
    table: pd.DataFrame,
    challenger: LeadScorer,
    load_champion: Callable[[Params], tuple[LeadScorer, str] | None],
) -> dict[str, Any]:
    """Champion vs challenger on the challenger's test split (the same raw leads for both models).

    ``table`` is a feature table (its ``split`` and ``label`` pick the test rows); ``load_champion``
    returns the current champion and its version, or None when there is none (the first model is
    promoted). A champion that cannot be loaded or cannot score these leads (columns changed) gives
    ``"manual"``, with why. See :func:`leadscore.evaluation.promotion.compare_champion_challenger`.
    """
    from leadscore.data.outcomes import TEST
    from leadscore.errors import DataValidationError, LeadscoreError
    from leadscore.evaluation.promotion import compare_champion_challenger
    from leadscore.pipeline.tables import rows_in

    id_col = params.columns.id
    if not leads[id_col].reset_index(drop=True).equals(table[id_col].reset_index(drop=True)):
        raise DataValidationError(
            f"register: the feature table's {id_col!r} does not match the raw leads' (rerun featurize)"
        )
    test = rows_in(table, TEST)
    test_leads = leads[test].reset_index(drop=True)
    y = table.loc[test, "label"].astype(int).to_numpy()
    # The challenger's own export: featurize checked it against the contract it learned. The champion's
    # contract is checked (a champion that cannot read the new export leaves the decision to people).
    scored = challenger.predict(test_leads, source="test split (challenger)", contract_checked=True)
    p_champion, champion_version, error = None, None, None
    try:
        champion = load_champion(params)
    except LeadscoreError as err:
        champion, error = None, f"the current champion could not be loaded ({err})"
    if champion is not None:
        champion_scorer, champion_version = champion
        try:
            p_champion = champion_scorer.predict(test_leads, source="test split (champion)")["conversion_probability"]
        except LeadscoreError as err:
            error = f"champion v{champion_version} cannot score the new data ({err})"
    decision = compare_champion_challenger(
        y,
        scored["conversion_probability"].to_numpy(),
        None if p_champion is None else p_champion.to_numpy(),
        scored["bant_criteria_met"].to_numpy(),
        scored["bant_qualified"].to_numpy(),
        config=params.promotion,
        champion_version=champion_version,
        champion_error=error,
    )
    if champion is None and error is None:
        c = decision["challenger"]
        decision["decision"] = "promoted"
        decision["reason"] = (
            f"promoted: first model (no @champion registered yet); log loss {c['log_loss']:.4f}, "
            f"AUC {c['auc']:.4f} on its {len(y):,} test leads"
        )
    return decision


@friendly
def command(
    raw: Annotated[str, typer.Option(help="raw lead table (fingerprint and input example)")],
    features: Annotated[str, typer.Option(help="a feature table (its test split and labels: champion vs challenger)")],
    scorer: Annotated[str, typer.Option()],
    fit_model: Annotated[str, typer.Option()],
    intent_model: Annotated[str, typer.Option()],
    metrics: Annotated[str, typer.Option()],
    run_out: Annotated[str, typer.Option(help="run summary JSON to write")],
    promotion_out: Annotated[str | None, typer.Option(help="champion vs challenger decision (JSON) to write")] = None,
    artifact: Annotated[list[str] | None, typer.Option(help="extra files to attach to the run")] = None,
    activities: Annotated[str | None, typer.Option(help="activity log (activity snapshot tables only)")] = None,
    display: Annotated[str | None, typer.Option(help="display.json (labels, actions) written by predict")] = None,
    tuning: Annotated[list[str] | None, typer.Option(help="tuning reports of the train stages (train.tune)")] = None,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> None:
    """Log the run to MLflow, register the composite model as challenger, promote it if it beats the
    champion on the same leads."""
    with status("logging to MLflow"):
        summary = run(
            load(params),
            params_path=str(params),
            raw=raw,
            features=features,
            scorer=scorer,
            display=display,
            fit_model=fit_model,
            intent_model=intent_model,
            metrics=metrics,
            run_out=run_out,
            promotion_out=promotion_out,
            artifact=artifact,
            tuning=tuning,
            activities=activities,
        )
    console.print(
        f"MLflow run {summary['run_id']} -> {summary['registered_model']} v{summary['version']} {summary['aliases']}"
    )
    console.print(summary["promotion"]["reason"], highlight=False)


if __name__ == "__main__":
    main(command)
