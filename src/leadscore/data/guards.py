"""Minimum-data guard: refuse to train on too little history, warn on little history.

Commercial lead-scoring tools ask for roughly 1,000 closed leads and 120 conversions before they
build a model; below that the test split holds a few dozen wins and every metric is noise. The levels
are params (``guards``); the counts are over all closed leads of the export. The outcome counted
against ``min_wins``/``warn_wins`` is the *rarer* one: wins usually, but an export of mostly wins
(1,200 wins, 40 losses) cannot teach a model what a loss looks like either.
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
    losses = closed - wins
    # The rarer outcome limits what a model can learn: count it against min_wins / warn_wins.
    rarer, rare_count = ("losses", losses) if losses < wins else ("wins", wins)
    have = f"{source} has {closed:,} closed leads, {wins:,} wins and {losses:,} losses"
    if closed < guards.min_closed or rare_count < guards.min_wins:
        raise DataValidationError(
            f"{have}; needs at least {guards.min_closed:,} closed leads and {guards.min_wins:,} of each outcome "
            f"(here {rarer} are the rarer) to train a model worth trusting (params guards.min_closed / guards.min_wins)"
        )
    warnings = []
    if closed < guards.warn_closed or rare_count < guards.warn_wins:
        warnings.append(
            f"{have}: fewer than {guards.warn_closed:,} closed leads or {guards.warn_wins:,} {rarer} "
            "(params guards.warn_*), so test metrics will be noisy; collect more history if you can"
        )
    return {"closed": closed, "wins": wins, "losses": losses, "rarer": rarer, "warnings": warnings}
