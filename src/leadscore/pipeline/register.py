"""Stage ``register``: one MLflow run per pipeline run, the composite model registered as @challenger."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadscore.pipeline.common import DEFAULT_PARAMS, ParamsOpt, console, friendly, load, main, status

if TYPE_CHECKING:
    import pandas as pd

    from leadscore.config import Params


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
    scorer: str,
    display: str | None = None,
    fit_model: str,
    intent_model: str,
    metrics: str,
    run_out: str,
    artifact: list[str] | None = None,
) -> dict[str, Any]:
    """Log this pipeline run to MLflow and register the composite model (see :mod:`leadscore.tracking`)."""
    import json

    from leadscore import tracking  # imports MLflow: only this stage pays for it
    from leadscore.errors import DataValidationError
    from leadscore.io import sha256_file, write_json
    from leadscore.pipeline.tables import read_raw_leads

    # Every input is checked before anything is logged: a missing one is one error line, not a traceback.
    if not Path(metrics).is_file():
        raise DataValidationError(f"{metrics}: not found (run the evaluate stage first)")
    leads = read_raw_leads(params, raw)
    example = example_rows(leads)
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
        artifacts=[metrics, *(artifact or [])],
    )
    write_json(summary, run_out)
    return summary


@friendly
def command(
    raw: Annotated[str, typer.Option(help="raw lead table (fingerprint and input example)")],
    scorer: Annotated[str, typer.Option()],
    fit_model: Annotated[str, typer.Option()],
    intent_model: Annotated[str, typer.Option()],
    metrics: Annotated[str, typer.Option()],
    run_out: Annotated[str, typer.Option(help="run summary JSON to write")],
    artifact: Annotated[list[str] | None, typer.Option(help="extra files to attach to the run")] = None,
    display: Annotated[str | None, typer.Option(help="display.json (labels, actions) written by predict")] = None,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> None:
    """Log the run to MLflow, register the composite model as challenger, promote it if better."""
    with status("logging to MLflow"):
        summary = run(
            load(params),
            params_path=str(params),
            raw=raw,
            scorer=scorer,
            display=display,
            fit_model=fit_model,
            intent_model=intent_model,
            metrics=metrics,
            run_out=run_out,
            artifact=artifact,
        )
    console.print(
        f"MLflow run {summary['run_id']} -> {summary['registered_model']} v{summary['version']} {summary['aliases']}"
    )


if __name__ == "__main__":
    main(command)
