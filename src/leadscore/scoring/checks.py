"""The one scoring path batch scoring, Dask and the served MLflow model share: checks, then predict.

Every request or chunk goes through :func:`score_checked`, so a lead is refused or scored the same
way whichever door it came in by. The input contract (``scorer.extras["contract"]``) plugs in here.
"""

from __future__ import annotations

import pandas as pd

from leadscore.data.validation import validate_ids
from leadscore.models.scorer import LeadScorer


def score_checked(
    scorer: LeadScorer,
    raw: pd.DataFrame,
    *,
    source: str = "lead table",
    explain: bool = False,
    contract_checked: bool = False,
) -> pd.DataFrame:
    """``scorer.predict(raw)`` after the checks every caller needs.

    Ids must be present, non-missing and unique (missing or repeated ids would make the scores
    unjoinable, and upserts ambiguous), and ``raw`` must honour the scorer's input contract. Raises
    :class:`~leadscore.errors.DataValidationError` with one line naming the column otherwise.
    ``contract_checked=True``: the caller already checked the whole input chunk by chunk
    (:func:`leadscore.scoring.batch.input_check`), so this chunk is not checked again on its own.
    """
    if not contract_checked:
        validate_ids(raw, scorer.id_column, source=source)
    return scorer.predict(raw, source=source, explain=explain, contract_checked=contract_checked)
