"""Stage ``generate``: the raw lead table (the synthetic CRM or your export), its truth file and the
activity log (issue 14: the synthetic CRM's, a copy of yours named in params activities.source, or an
empty log when intent comes from the lead table)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

import typer

from leadscore.pipeline.common import DEFAULT_PARAMS, ParamsOpt, friendly, load, main, status

if TYPE_CHECKING:
    from leadscore.config import Params

log = logging.getLogger(__name__)


def run(params: Params, *, leads_out: str, truth_out: str, activities_out: str | None = None) -> None:
    """Write the raw lead table and the truth file (empty for real exports: no oracle).

    ``activities_out``: the activity log every later stage reads (one declared output): the synthetic
    CRM's (params ``data.synthetic.activities``), else a copy of params ``activities.source``, else an
    empty log (nothing reads it then).
    """
    import pandas as pd

    from leadscore.data.loading import load_raw_leads
    from leadscore.io import write_table

    events: pd.DataFrame | None = None
    truth: pd.DataFrame | None
    if params.data.is_synthetic and params.data.synthetic.activities:
        from leadscore.data.synthetic import generate_crm

        s = params.data.synthetic
        leads, truth, events = generate_crm(
            s.n_leads, seed=s.seed, reference_date=s.reference_date, months=s.months, activities=True, drift=s.drift
        )
    else:
        leads, truth = load_raw_leads(params)
    if activities_out is not None:
        from leadscore.data.loading import load_activity_log

        if events is None:
            events = load_activity_log(params, leads_out=activities_out)
        write_table(events, activities_out)
        log.info("wrote %d activity events to %s", len(events), activities_out)
    if truth is None:
        # Real exports have no ground truth: an empty truth file tells evaluate to skip the oracle.
        id_dtype = leads[params.columns.id].dtype
        truth = pd.DataFrame({params.columns.id: pd.Series([], dtype=id_dtype), "true_p": pd.Series([], dtype=float)})
    write_table(leads, leads_out)
    write_table(truth, truth_out)
    log.info("wrote %d leads to %s", len(leads), leads_out)


@friendly
def command(
    leads_out: Annotated[str, typer.Option(help="raw lead table to write (.parquet)")],
    truth_out: Annotated[str, typer.Option(help="true conversion probabilities (synthetic data only)")],
    activities_out: Annotated[str | None, typer.Option(help="activity log to write (.parquet; issue 14)")] = None,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> None:
    """Write the raw lead table: the synthetic CRM, or your export named in params data.source."""
    with status("generating leads"):
        run(load(params), leads_out=leads_out, truth_out=truth_out, activities_out=activities_out)


if __name__ == "__main__":
    main(command)
