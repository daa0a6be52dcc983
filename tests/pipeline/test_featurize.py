"""features.on_suspected_leak through the real featurize stage: warn keeps, drop removes, fail stops."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadscore.data.synthetic import generate_leads
from leadscore.errors import DataValidationError
from leadscore.io import read_table, write_table
from leadscore.pipeline import featurize


@pytest.fixture(scope="module")
def leaky_export(tmp_path_factory):
    """4,000 synthetic leads plus a rep's note written after the outcome."""
    leads, _ = generate_leads(4000, seed=7)
    leads["rep_note"] = leads["status"].map({"won": "signed", "lost": "went dark", "open": None})
    path = tmp_path_factory.mktemp("leaky") / "leads.parquet"
    write_table(leads, path)
    return path


def _run(params, action, raw, tmp_path):
    f = params.features.model_copy(
        update={"intent": (*params.features.intent, "rep_note"), "on_suspected_leak": action}
    )
    small = params.model_copy(
        update={
            "features": f,
            "guards": params.guards.model_copy(
                update={"min_closed": 100, "min_wins": 20, "warn_closed": 100, "warn_wins": 20}
            ),
        }
    )
    out = {k: str(tmp_path / k) for k in ("fit.parquet", "intent.parquet", "featurizer.json", "audit.json")}
    featurize.run(
        small,
        raw=str(raw),
        fit_out=out["fit.parquet"],
        intent_out=out["intent.parquet"],
        featurizer_out=out["featurizer.json"],
        audit_out=out["audit.json"],
    )
    return out


def test_warn_reports_and_keeps_the_leak(params, leaky_export, tmp_path, caplog):
    with caplog.at_level("WARNING"):
        out = _run(params, "warn", leaky_export, tmp_path)
    assert "rep_note" in read_table(out["intent.parquet"]).columns
    assert json.loads(Path(out["audit.json"]).read_text())["suspected_leaks"] == ["rep_note"]
    assert "suspected leak(s): 'rep_note' (AUC 1.000)" in caplog.text


def test_drop_removes_the_leak_before_training(params, leaky_export, tmp_path):
    out = _run(params, "drop", leaky_export, tmp_path)
    assert "rep_note" not in read_table(out["intent.parquet"]).columns


def test_fail_stops_and_still_writes_the_audit(params, leaky_export, tmp_path):
    with pytest.raises(DataValidationError, match=r"'rep_note' \(AUC 1.000\).*on_suspected_leak: fail"):
        _run(params, "fail", leaky_export, tmp_path)
    assert not (tmp_path / "intent.parquet").exists()
    assert json.loads((tmp_path / "audit.json").read_text())["suspected_leaks"] == ["rep_note"]
