"""The pipeline's own tables: raw leads read with their ids checked, feature matrices, split masks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.errors import DataValidationError
from leadscore.pipeline.tables import feature_matrix, read_raw_leads, rows_in

TABLE = pd.DataFrame(
    {
        "lead_id": ["a", "b", "c"],
        "split": ["train", "test", "train"],
        "label": [1.0, 0.0, np.nan],
        "employees": [10, 20, 30],
        "industry_code": [1, 2, 3],
    }
)


def test_feature_matrix_is_the_features_only_in_order():
    X = feature_matrix(TABLE, "lead_id")
    assert list(X.columns) == ["employees", "industry_code"]
    assert X.index.equals(TABLE.index)
    with pytest.raises(KeyError, match="lead_id"):
        feature_matrix(TABLE.drop(columns="lead_id"), "lead_id")


def test_rows_in_is_a_numpy_mask_of_the_split():
    mask = rows_in(TABLE, "train")
    assert isinstance(mask, np.ndarray) and mask.tolist() == [True, False, True]
    assert not rows_in(TABLE, "open").any()


def test_read_raw_leads_checks_the_ids_and_names_the_file(params, tmp_path):
    good = tmp_path / "leads.parquet"
    TABLE.to_parquet(good)
    pd.testing.assert_frame_equal(read_raw_leads(params, good), TABLE)
    dupes = tmp_path / "dupes.parquet"
    TABLE.assign(lead_id=["a", "a", "c"]).to_parquet(dupes)
    with pytest.raises(DataValidationError, match=r"dupes\.parquet: column 'lead_id' \(the lead id\) must be unique"):
        read_raw_leads(params, dupes)
