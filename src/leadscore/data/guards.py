"""Minimum-data guard: refuse to train on too little history, warn on little history.

Commercial lead-scoring tools ask for roughly 1,000 closed leads and 120 conversions before they
build a model; below that the test split holds a few dozen wins and every metric is noise. The levels
are params (``guards``); the counts are over all closed leads of the export.
"""

from __future__ import annotations

import pandas as pd

from leadscore.config import GuardsConfig
from leadscore.errors import DataValidationError


def check_minimum_data(labels: pd.Series, guards: GuardsConfig, *, source: str = "lead table") -> dict:
    """Count closed leads and wins; raise below the minimum, return warnings below the warning level.

    Parameters
    ----------
    labels : Series
        1.0 won, 0.0 lost, NaN open (from :func:`leadscore.data.outcomes.outcome_labels`).

    Returns
    -------
    dict
        ``{"closed": n, "wins": m, "losses": k, "warnings": [...]}`` for the feature audit report.

    Raises
    ------
    DataValidationError
        Saying how many closed leads and wins the data has and how many are needed.
    """
    closed = int(labels.notna().sum())
    wins = int((labels == 1.0).sum())
    have = f"{source} has {closed:,} closed leads and {wins:,} wins"
    if closed < guards.min_closed or wins < guards.min_wins:
        raise DataValidationError(
            f"{have}; needs at least {guards.min_closed:,} closed leads and {guards.min_wins:,} wins "
            "to train a model worth trusting (params guards.min_closed / guards.min_wins)"
        )
    warnings = []
    if closed < guards.warn_closed or wins < guards.warn_wins:
        warnings.append(
            f"{have}: fewer than {guards.warn_closed:,} closed leads or {guards.warn_wins:,} wins "
            "(params guards.warn_*), so test metrics will be noisy; collect more history if you can"
        )
    return {"closed": closed, "wins": wins, "losses": closed - wins, "warnings": warnings}
