"""Stage ``generate``: the raw lead table and its truth file (empty for a real export)."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.errors import DataValidationError
from leadscore.pipeline import generate


def _with_data(params, **data):
    return params.model_copy(update={"data": params.data.model_copy(update=data)})


def test_synthetic_crm_and_its_truth_are_written_and_reproducible(params, tmp_path):
    tiny = _with_data(params, synthetic=params.data.synthetic.model_copy(update={"n_leads": 120}))
    out = {name: tmp_path / f"{name}.parquet" for name in ("leads", "truth", "leads2", "truth2")}
    generate.run(tiny, leads_out=str(out["leads"]), truth_out=str(out["truth"]))
    generate.run(tiny, leads_out=str(out["leads2"]), truth_out=str(out["truth2"]))
    leads, truth = pd.read_parquet(out["leads"]), pd.read_parquet(out["truth"])
    assert len(leads) == 120 and leads["lead_id"].is_unique
    assert truth["lead_id"].tolist() == leads["lead_id"].tolist() and truth["true_p"].between(0, 1).all()
    assert "true_p" not in leads.columns
    pd.testing.assert_frame_equal(pd.read_parquet(out["leads2"]), leads)  # same params, same data


def test_an_export_gets_an_empty_truth_file_with_the_id_dtype(params, tmp_path):
    export = tmp_path / "export.csv"
    export.write_text("status,employees\nwon,10\nlost,200\nopen,\n")
    leads_out, truth_out = tmp_path / "leads.parquet", tmp_path / "truth.parquet"
    generate.run(
        _with_data(params, source=str(export), add_row_id=True), leads_out=str(leads_out), truth_out=str(truth_out)
    )
    leads, truth = pd.read_parquet(leads_out), pd.read_parquet(truth_out)
    assert leads["lead_id"].tolist() == [1, 2, 3] and leads["employees"].isna().tolist() == [False, False, True]
    assert list(truth.columns) == ["lead_id", "true_p"] and len(truth) == 0
    assert truth["lead_id"].dtype == leads["lead_id"].dtype  # so evaluate's merge on the id works


def test_a_missing_export_is_named_and_nothing_is_written(params, tmp_path):
    leads_out, truth_out = tmp_path / "leads.parquet", tmp_path / "truth.parquet"
    with pytest.raises(DataValidationError, match=r"crm_export\.csv: file not found"):
        generate.run(
            _with_data(params, source=str(tmp_path / "crm_export.csv")),
            leads_out=str(leads_out),
            truth_out=str(truth_out),
        )
    assert list(tmp_path.iterdir()) == []
