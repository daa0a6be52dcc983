"""Champion vs challenger on the same leads: a worse model with an easier exam is not promoted."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import log_loss

from leadscore.config import BootstrapConfig, PromotionConfig
from leadscore.errors import DataValidationError
from leadscore.evaluation.promotion import compare_champion_challenger

CONFIG = PromotionConfig(bootstrap=BootstrapConfig(n=50, seed=1))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _world(n: int, *, intercept: float, seed: int):
    """Leads with a true probability; a BANT-like 0-4 score that is a noisy reading of it."""
    rng = np.random.default_rng(seed)
    logit = intercept + rng.normal(0, 1.3, n)
    y = (rng.random(n) < _sigmoid(logit)).astype(int)
    met = np.digitize(logit + rng.normal(0, 1.5, n), np.quantile(logit, [0.3, 0.55, 0.75, 0.9]))
    return {"logit": logit, "y": y, "met": met, "qualified": met >= 3, "rng": rng}


def _model(world, noise: float) -> np.ndarray:
    """A model's probability: the true log-odds blurred by its own error."""
    return _sigmoid(world["logit"] + world["rng"].normal(0, noise, len(world["y"])))


def test_worse_challenger_with_an_easier_test_split_is_not_promoted():
    # This month's test split (the challenger's): the same leads for both models.
    month = _world(6_000, intercept=-1.7, seed=1)
    champion_on_month, challenger_on_month = _model(month, 0.3), _model(month, 1.0)
    # Last month's split, where the champion's logged number comes from, had a higher base rate ...
    last = _world(6_000, intercept=-1.0, seed=2)
    champion_logged = log_loss(last["y"], _model(last, 0.3))
    # ... and the challenger's own split an even lower one: on their own exams the worse model "wins".
    easy = _world(6_000, intercept=-3.0, seed=3)
    challenger_logged = log_loss(easy["y"], _model(easy, 1.0))
    assert challenger_logged < champion_logged  # the old rule would promote it

    result = compare_champion_challenger(
        month["y"],
        challenger_on_month,
        champion_on_month,
        month["met"],
        month["qualified"],
        config=CONFIG,
        champion_version="3",
        challenger_version="4",
    )
    assert result["decision"] == "kept"
    ch, champ = result["challenger"]["log_loss"], result["champion"]["log_loss"]
    assert ch > champ + 0.002
    assert result["reason"] == (
        f"kept: challenger log loss {ch:.4f} vs champion {champ:.4f} on the same 6,000 leads "
        f"({ch - champ:+.4f} > margin 0.002)"
    )
    assert result["rows_compared"] == 6_000
    assert result["champion_version"] == "3" and result["challenger_version"] == "4"
    diff = result["differences"]["log_loss"]
    assert diff["estimate"] == pytest.approx(ch - champ)
    assert diff["low"] < diff["estimate"] < diff["high"] and diff["low"] > 0  # clearly worse
    assert set(result["differences"]) >= {"auc", "log_loss", "ece", "conversions_at_bant_volume"}


def test_better_challenger_is_promoted():
    month = _world(6_000, intercept=-1.7, seed=4)
    champion, challenger = _model(month, 0.8), _model(month, 0.3)
    result = compare_champion_challenger(
        month["y"], challenger, champion, month["met"], month["qualified"], config=CONFIG
    )
    assert result["decision"] == "promoted"
    assert result["reason"].startswith("promoted: challenger log loss ")
    assert (
        f"{result['challenger']['log_loss']:.4f} vs champion {result['champion']['log_loss']:.4f}" in result["reason"]
    )
    assert result["differences"]["auc"]["estimate"] > 0
    assert result["challenger"]["beats_bant"] and result["challenger"]["capacity_ratio"] > 1


def test_equal_models_within_the_margin_are_promoted_and_an_auc_drop_is_not():
    month = _world(6_000, intercept=-1.7, seed=5)
    p = _model(month, 0.5)
    same = compare_champion_challenger(month["y"], p, p, month["met"], month["qualified"], config=CONFIG)
    assert same["decision"] == "promoted" and same["differences"]["log_loss"]["estimate"] == 0
    # A challenger with the same log loss budget but a worse ranking: the AUC gate catches it.
    strict = PromotionConfig(max_log_loss_increase=1.0, max_auc_drop=0.005, bootstrap=CONFIG.bootstrap)
    worse = compare_champion_challenger(
        month["y"], _model(month, 1.2), p, month["met"], month["qualified"], config=strict
    )
    assert (
        worse["decision"] == "kept" and "challenger AUC" in worse["reason"] and "a drop beyond 0.005" in worse["reason"]
    )


def test_a_challenger_that_does_not_beat_bant_is_kept():
    month = _world(6_000, intercept=-1.7, seed=6)
    useless = np.full(6_000, month["y"].mean())  # no ranking at all, perfectly calibrated in the large
    loose = PromotionConfig(max_log_loss_increase=1.0, max_auc_drop=1.0, bootstrap=CONFIG.bootstrap)
    result = compare_champion_challenger(month["y"], useless, useless, month["met"], month["qualified"], config=loose)
    assert result["decision"] == "kept"
    assert result["reason"].startswith(
        "kept: challenger does not beat BANT on the same 6,000 leads: AUC 0.5000 vs BANT"
    )
    off = loose.model_copy(update={"require_beats_bant": False})
    assert (
        compare_champion_challenger(month["y"], useless, useless, month["met"], month["qualified"], config=off)[
            "decision"
        ]
        == "promoted"
    )


def test_champion_that_cannot_score_means_manual():
    month = _world(2_000, intercept=-1.7, seed=7)
    result = compare_champion_challenger(
        month["y"],
        _model(month, 0.3),
        None,
        month["met"],
        month["qualified"],
        config=CONFIG,
        champion_error="champion v3 cannot score these leads: missing column(s) lead_score_v2",
        challenger_version="4",
    )
    assert result["decision"] == "manual"
    assert result["reason"].startswith(
        "manual: champion v3 cannot score these leads: missing column(s) lead_score_v2; challenger log loss "
    )
    assert result["champion"] is None and result["challenger"]["auc"] > 0.5


def test_rows_must_line_up():
    month = _world(100, intercept=-1.0, seed=8)
    with pytest.raises(DataValidationError, match="p_champion has 99 rows, y has 100"):
        compare_champion_challenger(
            month["y"], _model(month, 0.3), _model(month, 0.3)[:99], month["met"], month["qualified"], config=CONFIG
        )
