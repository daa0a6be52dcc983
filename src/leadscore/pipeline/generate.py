"""Stage ``generate``: the raw lead table (the synthetic CRM or your export) and its truth file."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

import typer

from leadscore.pipeline.common import DEFAULT_PARAMS, ParamsOpt, friendly, load, main, status

if TYPE_CHECKING:
    from leadscore.config import Params

log = logging.getLogger(__name__)


def run(params: Params, *, leads_out: str, truth_out: str) -> None:
    """Write the raw lead table and the truth file (empty for real exports: no oracle)."""
    import pandas as pd

    from leadscore.data.loading import load_raw_leads
    from leadscore.io import write_table

    leads, truth = load_raw_leads(params)
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
    params: ParamsOpt = DEFAULT_PARAMS,
) -> None:
    """Write the raw lead table: the synthetic CRM, or your export named in params data.source."""
    with status("generating leads"):
        run(load(params), leads_out=leads_out, truth_out=truth_out)


if __name__ == "__main__":
    main(command)
