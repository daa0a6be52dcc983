"""Minimum-data guard: refuse below the minimum, warn between minimum and warning level."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import GuardsConfig, params_from_dict
from leadscore.data.guards import check_minimum_data
from leadscore.errors import ConfigError, DataValidationError

GUARDS = GuardsConfig(min_closed=20, min_wins=5, warn_closed=50, warn_wins=10)


def _labels(wins: int, losses: int, open_: int = 3) -> pd.Series:
    return pd.Series([1.0] * wins + [0.0] * losses + [np.nan] * open_)


def test_too_few_closed_leads_are_refused_with_counts():
    with pytest.raises(
        DataValidationError,
        match=r"export.csv has 15 closed leads, 6 wins and 9 losses; needs at least 20 closed leads and 5 of each",
    ):
        check_minimum_data(_labels(6, 9), GUARDS, source="export.csv")


def test_too_few_wins_are_refused_even_with_many_leads():
    with pytest.raises(DataValidationError, match=r"has 104 closed leads, 4 wins and 100 losses.*wins are the rarer"):
        check_minimum_data(_labels(4, 100), GUARDS)


def test_too_few_losses_are_refused_even_with_many_wins():
    """1,200 wins and 40 losses (scaled down): a model cannot learn what a loss looks like from so few."""
    with pytest.raises(DataValidationError, match=r"120 wins and 4 losses.*losses are the rarer"):
        check_minimum_data(_labels(120, 4), GUARDS)


def test_few_losses_warn_like_few_wins():
    result = check_minimum_data(_labels(60, 8), GUARDS)
    assert result["rarer"] == "losses" and "10 losses" in result["warnings"][0]


def test_between_minimum_and_warning_level_warns():
    result = check_minimum_data(_labels(8, 30), GUARDS)
    assert result["closed"] == 38 and result["wins"] == 8 and result["losses"] == 30
    assert len(result["warnings"]) == 1 and "noisy" in result["warnings"][0]


def test_enough_data_passes_silently():
    assert check_minimum_data(_labels(20, 60), GUARDS)["warnings"] == []


def test_open_leads_do_not_count():
    with pytest.raises(DataValidationError, match="has 10 closed leads"):
        check_minimum_data(_labels(5, 5, open_=1000), GUARDS)


def test_defaults_follow_commercial_tools():
    g = GuardsConfig()
    assert (g.min_closed, g.min_wins, g.warn_closed, g.warn_wins) == (1000, 120, 5000, 500)


def test_warning_level_below_minimum_is_a_config_error(params):
    raw = params.model_dump(by_alias=True)
    raw["guards"] = {"min_closed": 1000, "warn_closed": 500}
    with pytest.raises(ConfigError, match="warn_closed"):
        params_from_dict(raw)
