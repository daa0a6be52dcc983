import numpy as np
import pandas as pd
import pytest

from leadscore.config import ColumnsConfig
from leadscore.errors import DataValidationError
from leadscore.features.snapshots import SNAPSHOT_COLUMNS, snapshots_by_age

COLUMNS = ColumnsConfig()
REF = "2026-06-30"


def _leads() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": ["W", "L", "Q", "O", "F"],
            "created_at": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01", "2026-06-20", "2026-07-05"]),
            "status": ["won", "lost", "won", "open", "open"],
            # W closes at day 20: open at ages 1, 7, 14; L at day 14 exactly: 1 and 7 only (14 is not
            # before the close); Q closes within a day: no example.
            "closed_at": pd.to_datetime(["2026-01-21", "2026-02-15", "2026-03-01 12:00", None, None], format="ISO8601"),
        }
    )


def test_closed_leads_at_each_age_while_open():
    out = snapshots_by_age(_leads(), columns=COLUMNS, reference_date=REF, ages_days=(1, 7, 14, 30))
    assert list(out.columns) == ["lead_id", *SNAPSHOT_COLUMNS]
    closed = out[~out["is_open"]]
    assert closed["lead_id"].tolist() == ["W", "W", "W", "L", "L"]
    assert closed["age_days"].tolist() == [1, 7, 14, 1, 7]
    assert closed["label"].tolist() == [1, 1, 1, 0, 0]
    assert (closed["as_of"] == closed["created_at"] + pd.to_timedelta(closed["age_days"], unit="D")).all()
    np.testing.assert_allclose(closed.groupby("lead_id")["weight"].sum(), 1.0)
    assert "Q" not in set(out["lead_id"])


def test_open_leads_once_at_the_reference_date_or_as_of():
    out = snapshots_by_age(_leads(), columns=COLUMNS, reference_date=REF)
    opened = out[out["is_open"]]
    # F was created after the reference date: not scored.
    assert opened["lead_id"].tolist() == ["O"]
    assert opened["as_of"].tolist() == [pd.Timestamp(REF)]
    assert opened["age_days"].tolist() == [10.0]
    assert opened["weight"].tolist() == [1.0] and opened["label"].isna().all()
    later = snapshots_by_age(_leads(), columns=COLUMNS, reference_date=REF, as_of="2026-07-10")
    assert later.loc[later["is_open"], "lead_id"].tolist() == ["O", "F"]
    assert later.loc[later["is_open"], "age_days"].tolist() == [20.0, 5.0]


def test_label_horizon():
    out = snapshots_by_age(_leads(), columns=COLUMNS, reference_date=REF, ages_days=(1, 7, 14), horizon_days=10)
    won = out[out["lead_id"] == "W"]
    # W is won on day 20: within 10 days only from the day-14 snapshot.
    assert won["label"].tolist() == [0.0, 0.0, 1.0]


def test_errors_name_the_column():
    leads = _leads()
    with pytest.raises(DataValidationError, match="'closed_at' is empty for 1 closed"):
        snapshots_by_age(
            leads.assign(closed_at=leads["closed_at"].where(leads["lead_id"] != "W")),
            columns=COLUMNS,
            reference_date=REF,
        )
    with pytest.raises(DataValidationError, match="'closed_at'"):
        snapshots_by_age(leads.drop(columns="closed_at"), columns=COLUMNS, reference_date=REF)
    with pytest.raises(DataValidationError, match=r"'closed_at' should hold dates.*'soon'"):
        snapshots_by_age(
            leads.assign(closed_at=["2026-01-21", "soon", None, None, None]), columns=COLUMNS, reference_date=REF
        )
    with pytest.raises(DataValidationError, match="snapshot_ages_days"):
        snapshots_by_age(leads, columns=COLUMNS, reference_date=REF, ages_days=(-1,))
    with pytest.raises(DataValidationError, match="created_at is null"):
        snapshots_by_age(leads, columns=ColumnsConfig(created_at=None), reference_date=REF)
