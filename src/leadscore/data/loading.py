"""Loading the raw lead table that params.yaml points at (synthetic generator or a CRM export)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.config import Params
from leadscore.data.validation import validate_ids
from leadscore.errors import DataValidationError
from leadscore.io import read_table


def load_raw_leads(
    params: Params, *, base_dir: str | Path = ".", n_leads: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Return ``(leads, truth)``: the synthetic CRM with its truth, or the export with ``truth=None``.

    Parameters
    ----------
    base_dir : path
        Directory that a relative ``data.source`` is relative to (the repo root).
    n_leads : int, optional
        Override the synthetic data's size (e.g. small data in notebooks and tests).
    """
    if params.data.is_synthetic:
        from leadscore.data.synthetic import generate_leads

        s = params.data.synthetic
        return generate_leads(
            n_leads or s.n_leads,
            seed=s.seed,
            reference_date=s.reference_date,
            months=s.months,
            drift=s.drift,
            world=s.world,
        )
    source = Path(base_dir) / params.data.source
    leads = read_table(source, csv_separator=params.data.csv_separator, missing_values=params.data.missing_values)
    if params.data.add_row_id:
        leads = add_row_id(leads, params.columns.id, source=str(source))
    validate_ids(leads, params.columns.id, source=str(source))
    return leads, None


def add_row_id(leads: pd.DataFrame, id_column: str, *, source: str) -> pd.DataFrame:
    """Number an export's rows 1..n in file order into ``id_column`` (params data.add_row_id)."""
    if id_column in leads.columns:
        raise DataValidationError(
            f"{source}: params data.add_row_id is true but column {id_column!r} already exists; set it to false"
        )
    return pd.concat([pd.DataFrame({id_column: np.arange(1, len(leads) + 1)}, index=leads.index), leads], axis=1)
