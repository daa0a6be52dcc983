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


def load_activity_log(
    params: Params, *, leads_out: str | Path | None = None, base_dir: str | Path = "."
) -> pd.DataFrame:
    """The activity log params ``activities.source`` names (a .csv/.parquet file or a directory of them),
    or an empty log with the default columns when it is null (intent from the lead table).

    ``leads_out``: the path generate writes the log to; a source naming that same file (the synthetic
    CRM's log with ``data.synthetic.activities`` off) is refused with one line rather than read.
    """
    import duckdb

    source = params.activities.source
    if source is None:
        return pd.DataFrame(
            {
                "lead_id": pd.Series([], dtype="str"),
                "timestamp": pd.Series([], dtype="datetime64[ns]"),
                "activity_type": pd.Series([], dtype="str"),
                "channel": pd.Series([], dtype="str"),
                "value": pd.Series([], dtype="float64"),
            }
        )
    path = Path(base_dir) / source
    if leads_out is not None and path.resolve() == Path(leads_out).resolve():
        raise DataValidationError(
            f"params activities.source names {source!r}, the log generate writes; with the synthetic CRM set "
            "data.synthetic.activities: true, or point activities.source at your own log, e.g. exports/events.csv"
        )
    if path.is_dir():
        parquet, csv = sorted(path.rglob("*.parquet")), sorted(path.rglob("*.csv"))
        files = parquet or csv
        if not files:
            raise DataValidationError(f"{path}: activity log directory holds no .parquet or .csv files")
        reader = "read_parquet" if parquet else "read_csv"
        pattern = str(path / "**" / ("*.parquet" if parquet else "*.csv"))
        sql = f"SELECT * FROM {reader}('{pattern}', union_by_name=true)"
    elif path.is_file() and path.suffix.lower() in (".parquet", ".csv"):
        reader = "read_parquet" if path.suffix.lower() == ".parquet" else "read_csv"
        sql = f"SELECT * FROM {reader}('{path}')"
    else:
        raise DataValidationError(
            f"{path}: activity log not found (params activities.source: a .parquet/.csv file or a directory of them)"
        )
    try:
        return duckdb.execute(sql).df()
    except duckdb.Error as err:
        raise DataValidationError(f"{path}: cannot read the activity log: {str(err).splitlines()[0]}") from None
