"""Loading the raw lead table: the synthetic CRM with its truth, or an export (no truth)."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.data.loading import add_row_id, load_raw_leads
from leadscore.errors import DataValidationError


def _export_params(params, source: str, **data):
    return params.model_copy(update={"data": params.data.model_copy(update={"source": source, **data})})


def test_synthetic_source_returns_leads_and_their_truth(params):
    leads, truth = load_raw_leads(params, n_leads=300)
    assert len(leads) == 300 and len(truth) == 300
    assert leads["lead_id"].is_unique and truth["lead_id"].tolist() == leads["lead_id"].tolist()
    assert truth["true_p"].between(0, 1).all()
    assert "true_p" not in leads.columns  # the truth never travels with the leads


def test_export_is_read_relative_to_base_dir_without_truth(params, tmp_path):
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "export.csv").write_text("lead_id;status;industry\nA;won;Select\nB;lost;Retail\n")
    p = _export_params(params, "crm/export.csv", csv_separator=";", missing_values=("Select",))
    leads, truth = load_raw_leads(p, base_dir=tmp_path)
    assert truth is None
    assert leads["lead_id"].tolist() == ["A", "B"]
    assert leads["industry"].isna().tolist() == [True, False]


def test_export_without_ids_is_numbered_in_file_order(params, tmp_path):
    (tmp_path / "export.csv").write_text("status,industry\nwon,Retail\nlost,Software\nopen,Retail\n")
    leads, _ = load_raw_leads(_export_params(params, "export.csv", add_row_id=True), base_dir=tmp_path)
    assert list(leads.columns) == ["lead_id", "status", "industry"]
    assert leads["lead_id"].tolist() == [1, 2, 3]


def test_export_errors_name_the_file_and_the_column(params, tmp_path):
    with pytest.raises(DataValidationError, match=r"missing\.csv: file not found"):
        load_raw_leads(_export_params(params, "missing.csv"), base_dir=tmp_path)
    (tmp_path / "dupes.csv").write_text("lead_id,status\nA,won\nA,lost\n")
    with pytest.raises(DataValidationError, match=r"dupes\.csv: column 'lead_id' .* unique; 1 duplicates, e\.g\. 'A'"):
        load_raw_leads(_export_params(params, "dupes.csv"), base_dir=tmp_path)
    (tmp_path / "noid.csv").write_text("status\nwon\n")
    with pytest.raises(DataValidationError, match=r"noid\.csv: missing column\(s\) 'lead_id'"):
        load_raw_leads(_export_params(params, "noid.csv"), base_dir=tmp_path)


def test_add_row_id_keeps_the_index_and_refuses_an_existing_column():
    leads = pd.DataFrame({"status": ["won", "lost"]}, index=[10, 20])
    numbered = add_row_id(leads, "id", source="x.csv")
    assert numbered.index.tolist() == [10, 20] and numbered["id"].tolist() == [1, 2]
    with pytest.raises(DataValidationError, match=r"x\.csv: .*add_row_id is true but column 'status' already exists"):
        add_row_id(leads, "status", source="x.csv")


def test_synthetic_world_comes_from_params(params):
    """Issue 15: data.synthetic.world picks the truth function; the leads but their outcomes are the same."""
    synthetic = params.data.synthetic.model_copy(update={"world": "interactions"})
    world2 = params.model_copy(update={"data": params.data.model_copy(update={"synthetic": synthetic})})
    leads, truth = load_raw_leads(params, n_leads=3000)
    leads2, truth2 = load_raw_leads(world2, n_leads=3000)
    assert leads2.drop(columns="status").equals(leads.drop(columns="status"))
    assert not truth2["true_p"].equals(truth["true_p"])
