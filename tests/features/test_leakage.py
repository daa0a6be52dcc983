"""Leakage guard: single-column AUCs on tiny frames with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import FeaturesConfig
from leadscore.features.leakage import (
    apply_leak_policy,
    audit_columns,
    categorical_auc,
    leak_banner,
    leakage_summary,
    numeric_auc,
    uninformative_columns,
)

RNG = np.random.default_rng(0)
Y = RNG.integers(0, 2, 2000)


def test_a_numeric_column_that_is_the_outcome_has_auc_one_either_way_round():
    assert numeric_auc(pd.Series(Y * 10.0), Y) == pytest.approx(1.0)
    assert numeric_auc(pd.Series(-Y * 10.0), Y) == pytest.approx(1.0)


def test_noise_scores_about_one_half():
    assert numeric_auc(pd.Series(RNG.normal(size=len(Y))), Y) < 0.56
    assert categorical_auc(pd.Series(RNG.choice(list("abcde"), len(Y))), Y) < 0.56


def test_missingness_that_reveals_the_outcome_is_caught():
    """A field filled in only for won leads (e.g. by sales after the deal) leaks through its gaps."""
    values = pd.Series(np.where(Y == 1, RNG.normal(size=len(Y)), np.nan))
    assert numeric_auc(values, Y) == pytest.approx(1.0)


def test_categorical_leak_is_measured_out_of_fold():
    status_note = pd.Series(np.where(Y == 1, "closed by rep", "lost to competitor"))
    assert categorical_auc(status_note, Y) == pytest.approx(1.0)
    # A unique id per lead predicts nothing out of fold (in-fold it would look perfect).
    ids = pd.Series([f"L{i}" for i in range(len(Y))])
    assert categorical_auc(ids, Y) < 0.56


def test_audit_flags_above_threshold_and_lists_every_column():
    frame = pd.DataFrame(
        {
            "tags": np.where(RNG.random(len(Y)) < 0.95, np.where(Y == 1, "won-ish", "lost-ish"), "other"),
            "visits": Y * 2 + RNG.normal(scale=2.0, size=len(Y)),
            "country": RNG.choice(["de", "fr"], len(Y)),
        }
    )
    table = audit_columns(frame, pd.Series(Y), threshold=0.85)
    assert table["column"].tolist()[0] == "tags" and set(table["column"]) == {"tags", "visits", "country"}
    assert table.set_index("column")["suspected_leak"].to_dict() == {"tags": True, "visits": False, "country": False}
    assert table.set_index("column")["kind"].to_dict() == {
        "tags": "categorical",
        "visits": "numeric",
        "country": "categorical",
    }


def test_columns_declared_categorical_are_audited_as_categories():
    codes = pd.Series(RNG.integers(1, 9, len(Y)))
    table = audit_columns(pd.DataFrame({"os": codes}), pd.Series(Y), threshold=0.85, categorical=("os",))
    assert table.loc[0, "kind"] == "categorical"


def test_single_class_outcome_is_refused():
    with pytest.raises(ValueError, match="single class"):
        audit_columns(pd.DataFrame({"a": [1, 2, 3]}), pd.Series([1, 1, 1]), threshold=0.85)


# -- issue 12: strong leaks stop the run, kept leaks reach the page, noise is never a reason ------------
def _audit(aucs: dict[str, float], *, allow=()) -> tuple[dict, FeaturesConfig]:
    f = FeaturesConfig(fit=("a",), intent=tuple(c for c in aucs if c != "a"), allow_strong=allow)
    columns = [
        {
            "column": c,
            "group": "fit" if c == "a" else "intent",
            "kind": "numeric",
            "auc": v,
            "suspected_leak": v > 0.85,
            "status": "used",
        }
        for c, v in aucs.items()
    ]
    leaks = [c for c, v in aucs.items() if v > 0.85]
    audit = {
        "threshold": 0.85,
        "strong_leak_auc": 0.98,
        "on_suspected_leak": "warn",
        "suspected_leaks": leaks,
        "strong_leaks": [c for c, v in aucs.items() if v >= 0.98],
        "allow_strong": list(allow),
        "columns": columns,
    }
    return audit, f


def test_a_perfect_separator_stops_under_warn_naming_it_once():
    audit, f = _audit({"a": 0.6, "note": 1.0, "score": 0.9})
    decision = apply_leak_policy(audit, f, source="export.csv")
    assert decision.stop and "'note' (AUC 1.000)" in decision.message and "'score'" not in decision.message
    assert "\n" not in decision.message and "features.allow_strong" in decision.message


def test_allow_strong_and_the_moderate_band_warn_and_reach_the_banner():
    audit, f = _audit({"a": 0.6, "note": 1.0, "score": 0.9}, allow=("note",))
    decision = apply_leak_policy(audit, f, source="export.csv")
    assert not decision.stop and "'score' (AUC 0.900)" in decision.message
    summary = leakage_summary({**audit, "dropped_leaks": []})
    assert [k["column"] for k in summary["kept"]] == ["note", "score"] and summary["kept"][0]["allowed_strong"]
    banner = leak_banner(summary)
    assert banner.startswith("Suspected leak: note (AUC 1.000 alone, allowed by features.allow_strong), score")
    assert leak_banner(leakage_summary({**audit, "suspected_leaks": []})) is None


def test_drop_drops_strong_leaks_too_and_the_summary_says_so():
    audit, f = _audit({"a": 0.6, "note": 1.0, "score": 0.7})
    decision = apply_leak_policy(audit, f.model_copy(update={"on_suspected_leak": "drop"}), source="x")
    assert not decision.stop and decision.dropped == ("note",) and "note" in decision.features.exclude
    summary = leakage_summary({**audit, "dropped_leaks": list(decision.dropped)})
    assert summary["kept"] == [] and summary["dropped"][0]["column"] == "note"


def test_uninformative_needs_a_weak_column_alone_and_a_small_share_of_the_model():
    audit, _ = _audit({"a": 0.7, "tz": 0.501, "os": 0.505, "weak_alone": 0.51})
    importance = {"fit": {"a": 0.7}, "intent": {"tz": 0.08, "os": 0.02, "weak_alone": 0.5}}
    # tz: 0.08 < a fifth of intent's strongest (0.5); os: below min_effect; weak_alone matters in the model.
    assert uninformative_columns(audit, importance, min_effect=0.05) == ["os", "tz"]
