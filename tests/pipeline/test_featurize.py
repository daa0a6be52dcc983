"""features.on_suspected_leak through the real featurize stage: warn keeps, drop removes, fail stops."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
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


@pytest.fixture(scope="module")
def half_leaky_export(tmp_path_factory):
    """The same note, but a random one on 20% of leads: strong (AUC ~0.9), not a perfect separator."""
    leads, _ = generate_leads(4000, seed=7)
    rng = np.random.default_rng(3)
    note = leads["status"].map({"won": "signed", "lost": "went dark", "open": None})
    noisy = rng.random(len(leads)) < 0.2
    note[noisy] = rng.choice(["signed", "went dark"], int(noisy.sum()))
    leads["rep_note"] = note
    path = tmp_path_factory.mktemp("half_leaky") / "leads.parquet"
    write_table(leads, path)
    return path


def _run(params, action, raw, tmp_path, *, column="rep_note", **features):
    f = params.features.model_copy(
        update={
            "intent": (*params.features.intent, *([column] if column else [])),
            "on_suspected_leak": action,
            **features,
        }
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


def test_warn_reports_and_keeps_a_strong_but_imperfect_column(params, half_leaky_export, tmp_path, caplog):
    with caplog.at_level("WARNING"):
        out = _run(params, "warn", half_leaky_export, tmp_path)
    assert "rep_note" in read_table(out["intent.parquet"]).columns
    audit = json.loads(Path(out["audit.json"]).read_text())
    assert audit["suspected_leaks"] == ["rep_note"] and audit["strong_leaks"] == []
    assert "suspected leak(s): 'rep_note' (AUC 0." in caplog.text


def test_a_perfect_separator_stops_the_run_by_default_with_one_line_naming_it(params, leaky_export, tmp_path):
    with pytest.raises(DataValidationError) as err:
        _run(params, "warn", leaky_export, tmp_path)
    message = str(err.value)
    assert "'rep_note' (AUC 1.000)" in message and "features.allow_strong" in message and "\n" not in message
    assert not (tmp_path / "intent.parquet").exists()
    assert json.loads((tmp_path / "audit.json").read_text())["strong_leaks"] == ["rep_note"]


def test_allow_strong_lets_a_perfect_separator_through_and_the_audit_says_so(params, leaky_export, tmp_path):
    out = _run(params, "warn", leaky_export, tmp_path, allow_strong=("rep_note",))
    assert "rep_note" in read_table(out["intent.parquet"]).columns
    audit = json.loads(Path(out["audit.json"]).read_text())
    assert audit["allow_strong"] == ["rep_note"] and audit["dropped_leaks"] == []


def test_monotone_constraint_on_a_text_column_is_refused_before_lightgbm(params, tmp_path):
    """A Yes/No column listed in monotone_increasing used to abort the process inside LightGBM."""
    leads, _ = generate_leads(3000, seed=7)
    leads["demo_requested"] = leads["demo_requested"].map({True: "Yes", False: "No"})
    raw = tmp_path / "leads.parquet"
    write_table(leads, raw)
    with pytest.raises(DataValidationError, match=r"train\.intent\.monotone_increasing lists 'demo_requested'.*'no'"):
        _run(params, "warn", raw, tmp_path, column=None)
    assert not (tmp_path / "intent.parquet").exists()


def test_drop_removes_the_leak_before_training(params, leaky_export, tmp_path):
    out = _run(params, "drop", leaky_export, tmp_path)
    assert "rep_note" not in read_table(out["intent.parquet"]).columns


def test_fail_stops_and_still_writes_the_audit(params, leaky_export, tmp_path):
    with pytest.raises(DataValidationError, match=r"'rep_note' \(AUC 1.000\).*on_suspected_leak: fail"):
        _run(params, "fail", leaky_export, tmp_path)
    assert not (tmp_path / "intent.parquet").exists()
    assert json.loads((tmp_path / "audit.json").read_text())["suspected_leaks"] == ["rep_note"]


def test_without_the_leak_audit_warn_builds_the_very_same_tables(params, half_leaky_export):
    """The backtest skips the audit under warn: it must be the only difference (same features, same tables)."""
    import pandas as pd

    from leadscore.models.persistence import featurizer_to_dict

    leads = read_table(half_leaky_export)
    small = params.model_copy(
        update={
            "features": params.features.model_copy(update={"intent": (*params.features.intent, "rep_note")}),
        }
    )
    audited = featurize.featurize_leads(small, leads, source="export")
    skipped = featurize.featurize_leads(small, leads, source="export", leak_audit=False)
    assert audited.audit["suspected_leaks"] == ["rep_note"] and "skipped" not in audited.audit
    assert "suspected_leaks" not in skipped.audit and skipped.audit["skipped"]
    pd.testing.assert_frame_equal(audited.fit_table, skipped.fit_table)
    pd.testing.assert_frame_equal(audited.intent_table, skipped.intent_table)
    assert featurizer_to_dict(audited.featurizer) == featurizer_to_dict(skipped.featurizer)
    assert audited.featurizer.contract_ == skipped.featurizer.contract_
