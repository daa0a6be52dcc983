"""ActivityRowsSource (`leadscore score --activities`): lead rows gain their point-in-time log features."""

from __future__ import annotations

import pandas as pd
import pytest
from support import REPO_ROOT, small_params

from leadscore.data.synthetic import generate_crm
from leadscore.errors import DataValidationError
from leadscore.io import write_table
from leadscore.profiles import load_profile
from leadscore.scoring.activity_source import ActivityRowsSource
from leadscore.scoring.sources import open_source


@pytest.fixture(scope="module")
def params():
    return small_params(load_profile("synthetic_activity", root=REPO_ROOT), n_leads=1500, n_estimators=30)


@pytest.fixture(scope="module")
def crm():
    return generate_crm(1500, seed=7, activities=True)


def test_batch_source_adds_the_log_features_as_of_a_date_and_refuses_what_it_cannot_score(tmp_path, params, crm):
    """ActivityRowsSource (`leadscore score --activities`): the same rows as open_leads_as_of, chunk by chunk."""
    spec = {"types": ["web_visit"], "windows_days": [7.0], "half_lives_days": [14.0], "momentum_days": [7.0, 21.0]}
    log = tmp_path / "activities.parquet"
    write_table(crm.activities, log)
    as_of = pd.Timestamp("2026-06-01")
    leads = crm.leads[crm.leads["created_at"] < as_of].head(50).reset_index(drop=True)
    inp = tmp_path / "leads.parquet"
    write_table(leads, inp)
    columns = ["lead_id", "employees", "n_any_7d", "lead_age_days"]

    def rows(path, chunk_size):
        source = ActivityRowsSource(open_source(str(path)), params=params, events=log, spec=spec, as_of=as_of)
        return pd.concat(list(source.iter_chunks(columns, chunk_size)), ignore_index=True)

    whole, chunked = rows(inp, 1000), rows(inp, 7)
    pd.testing.assert_frame_equal(whole, chunked)
    assert whole["lead_id"].tolist() == leads["lead_id"].tolist() and (whole["as_of"] == as_of).all()
    visits = crm.activities[(crm.activities["activity_type"] == "web_visit")]
    week = visits["timestamp"].between(as_of - pd.Timedelta(days=7), as_of, inclusive="left")
    first = visits[(visits["lead_id"] == leads["lead_id"][0]) & week]
    assert whole["n_any_7d"][0] == len(first)
    later = crm.leads[crm.leads["created_at"] >= pd.Timestamp("2026-06-02")].head(1)
    write_table(pd.concat([leads, later]), inp)
    with pytest.raises(DataValidationError, match=r"1 lead\(s\) in this chunk were created after the as-of time"):
        rows(inp, 1000)
    write_table(pd.concat([leads, leads.head(1)]), inp)
    with pytest.raises(DataValidationError, match=r"'lead_id' \(the lead id\) must be unique; 1 duplicates, e.g. 'L"):
        rows(inp, 1000)
