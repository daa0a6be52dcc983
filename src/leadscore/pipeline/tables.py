"""Reading the pipeline's own tables (edges shared by several stages)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from leadscore.config import Params
from leadscore.data.validation import validate_ids
from leadscore.io import read_table

# Columns featurize writes beside the features in both feature tables.
META_COLUMNS = ("split", "label")


def read_raw_leads(params: Params, path: str | Path) -> pd.DataFrame:
    """Read the raw lead table written by the generate stage."""
    raw = read_table(path)
    validate_ids(raw, params.columns.id, source=str(path))
    return raw


# Issue 14: with an activity log a row is a lead at one moment; these columns say which and how much
# it weighs (featurize writes them only then).
SNAPSHOT_COLUMNS = ("as_of", "age_days", "weight")


def feature_matrix(table: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """A feature table without its id, split and label (and snapshot) columns."""
    return table.drop(columns=[id_column, *META_COLUMNS, *(c for c in SNAPSHOT_COLUMNS if c in table.columns)])


def row_weights(table: pd.DataFrame):
    """Per-row sample weights (numpy) of a snapshot table (each lead's rows sum to one), else None."""
    return table["weight"].to_numpy() if "weight" in table.columns else None


def rows_in(table: pd.DataFrame, split: str):
    """Boolean mask (numpy) of the rows of ``table`` in ``split``."""
    return (table["split"] == split).to_numpy()
