"""Checks of a raw lead table against the column roles in params.yaml: one error naming the column."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.data.validation import parse_timestamps, require_columns, validate_ids
from leadscore.errors import DataValidationError


def test_require_columns_lists_every_missing_column_once_and_what_declared_them():
    df = pd.DataFrame({"lead_id": [1], "status": ["won"]})
    require_columns(df, ["lead_id", "status"], what="params columns")  # present: no error
    with pytest.raises(DataValidationError) as err:
        require_columns(df, ["employees", "industry", "employees"], what="params features.fit", source="crm.csv")
    message = str(err.value)
    assert message.startswith("crm.csv: missing column(s) 'employees', 'industry' required by params features.fit")
    assert message.count("'employees'") == 1
    assert "Available columns: 'lead_id', 'status'" in message


def test_validate_ids_accepts_unique_ids_and_names_missing_and_duplicate_ones():
    validate_ids(pd.DataFrame({"id": ["a", "b"]}), "id")
    with pytest.raises(DataValidationError, match=r"x\.csv: column 'id' \(the lead id\) has 2 missing values"):
        validate_ids(pd.DataFrame({"id": ["a", None, None]}), "id", source="x.csv")
    with pytest.raises(DataValidationError, match=r"must be unique; 2 duplicates, e\.g\. 'b'"):
        validate_ids(pd.DataFrame({"id": ["a", "b", "b", "b"]}), "id")
    with pytest.raises(DataValidationError, match=r"missing column\(s\) 'id' required by params columns\.id"):
        validate_ids(pd.DataFrame({"key": [1]}), "id")


def test_parse_timestamps_parses_mixed_formats_and_keeps_datetimes():
    df = pd.DataFrame({"created": ["2026-01-05", "2026/02/01 10:30", "5 March 2026"]})
    parsed = parse_timestamps(df, "created")
    assert parsed.dt.month.tolist() == [1, 2, 3]
    already = pd.DataFrame({"created": pd.to_datetime(["2026-01-01"])})
    pd.testing.assert_series_equal(parse_timestamps(already, "created"), already["created"])


def test_parse_timestamps_names_the_column_and_a_bad_value():
    df = pd.DataFrame({"created": ["2026-01-05", "yesterday", "soon", None]})
    with pytest.raises(
        DataValidationError, match=r"crm\.csv: column 'created' should hold dates; 2 values .* 'yesterday'"
    ):
        parse_timestamps(df, "created", source="crm.csv")
    with pytest.raises(DataValidationError, match=r"column 'created' has 1 missing dates"):
        parse_timestamps(pd.DataFrame({"created": ["2026-01-05", None]}), "created")
    with pytest.raises(DataValidationError, match=r"'created' required by params columns\.created_at"):
        parse_timestamps(pd.DataFrame({"other": [1]}), "created")
