"""The composite lead scorer: raw leads in, fit / intent / conversion / quadrant / BANT out.

One object holds everything needed to score a raw CRM row, so the predict stage, batch scoring and
the MLflow pyfunc model all run the same code and give the same numbers. It is saved as one JSON
file (:mod:`leadscore.models.persistence`); display text (column labels, quadrant actions) is not
part of it: it stays in params and is attached with :meth:`LeadScorer.with_display`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from leadscore.config import BantConfig, Params
from leadscore.data.contract import ContractCheck, InputContract, contract_of
from leadscore.data.validation import require_columns
from leadscore.data.values import id_text
from leadscore.errors import DataValidationError
from leadscore.features.build import LeadFeaturizer
from leadscore.models.bant import bant_score
from leadscore.models.calibration import QUADRANTS, assign_quadrants, conversion_inputs
from leadscore.models.explain import REASON_COLUMNS, explain_leads

SCORE_COLUMNS = (
    "fit_probability",
    "intent_probability",
    "conversion_probability",
    "quadrant",
    "recommended_action",
    "bant_criteria_met",
    "bant_qualified",
    "rank",
)

DEFAULT_ACTIONS = {
    "high_fit_high_intent": "Fast-track to sales",
    "high_fit_low_intent": "Nurture",
    "low_fit_high_intent": "Danger zone: qualify carefully",
    "low_fit_low_intent": "Exclude until something changes",
}


@dataclass(frozen=True)
class Display:
    """Words shown to people, not part of the model: plain-word labels of source columns in reasons
    (params ``explain.labels``; others are humanised) and the action per quadrant (params
    ``quadrants.actions``; others fall back to :data:`DEFAULT_ACTIONS`). Editing them never retrains."""

    labels: dict[str, str] = field(default_factory=dict)
    actions: dict[str, str] = field(default_factory=dict)


def display_from_params(params: Params) -> Display:
    """The display text configured in params.yaml."""
    return Display(labels=dict(params.explain.labels), actions=dict(params.quadrants.actions))


@dataclass
class LeadScorer:
    """Fitted featurizer + calibrated fit and intent models + conversion model + thresholds + BANT."""

    id_column: str
    featurizer: LeadFeaturizer
    fit_model: Any  # CalibratedBooster (predict_proba, booster_)
    intent_model: Any
    conversion_model: Any  # one of leadscore.models.calibration's conversion models (predict_proba, to_dict)
    fit_threshold: float
    intent_threshold: float
    bant: BantConfig
    explain_top_k: int = 3
    # JSON-able data learned at training time that travels with the scorer, by name: the input
    # contract ("contract"), drift reference distributions ("drift_reference"), ...
    extras: dict[str, Any] = field(default_factory=dict)
    # Not saved with the model (see Display); attach with with_display().
    display: Display = field(default_factory=Display, compare=False)

    def with_display(self, display: Display) -> LeadScorer:
        """A copy of this scorer that shows ``display``'s labels and actions (the model is shared)."""
        return dataclasses.replace(self, display=display)

    @classmethod
    def check(cls, obj: object, *, source: str) -> LeadScorer:
        """``obj`` if it is a LeadScorer, else one clear error naming the file it came from."""
        if not isinstance(obj, cls):
            raise DataValidationError(f"{source}: not a leadscore scorer (got {type(obj).__name__})")
        return obj

    @property
    def input_columns(self) -> list[str]:
        """The raw columns a lead row must have to be scored."""
        f = self.featurizer.features
        cols = [self.id_column, *f.fit_columns, *f.intent_columns]
        cols += [c for pair in f.ratios.values() for c in pair]
        cols += [c.column for c in self.bant.criteria.values()]
        return list(dict.fromkeys(cols))

    @property
    def contract(self) -> InputContract | None:
        """The input contract learned at training time (``extras["contract"]``), or None for an older scorer."""
        return contract_of(self)

    def contract_check(self, *, source: str = "lead table") -> ContractCheck:
        """A fresh chunk-by-chunk check of input against this scorer's contract (ids only without one)."""
        return ContractCheck(self.contract, id_column=self.id_column, source=source)

    def component_probabilities(
        self, raw: pd.DataFrame, *, source: str = "lead table"
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Calibrated ``(p_fit, p_intent, p_conversion)`` arrays for each row of ``raw`` (drift references)."""
        X_fit, X_intent = self.featurizer.transform(raw, source=source)
        return self._probabilities(X_fit, X_intent)

    def _probabilities(self, X_fit: pd.DataFrame, X_intent: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p_fit = self.fit_model.predict_proba(X_fit)[:, 1]
        p_intent = self.intent_model.predict_proba(X_intent)[:, 1]
        segments = getattr(self.conversion_model, "segments_", ())  # segment_spline reads fit features too
        inputs = conversion_inputs(p_fit, p_intent, X_fit, segments=segments)
        p_conv = self.conversion_model.predict_proba(inputs)[:, 1]
        return p_fit, p_intent, p_conv

    def predict(
        self, raw: pd.DataFrame, *, source: str = "lead table", explain: bool = False, contract_checked: bool = False
    ) -> pd.DataFrame:
        """Score raw leads.

        Returns one row per input row (same order) with the id column (as text) and
        :data:`SCORE_COLUMNS`. ``rank`` is 1 for the most likely conversion within this batch. With
        ``explain=True``, also :data:`~leadscore.models.explain.REASON_COLUMNS`: the top reasons for
        and against in fit and in intent (``Label: value (+effect)`` joined by ``"; "``; effects in
        log-odds of the uncalibrated model) and a one-line summary of why the lead sits in its quadrant.

        ``raw`` is first checked against the input contract as one whole table (missing or
        duplicate ids, type errors, ... see :mod:`leadscore.data.contract`): a refusal raises
        :class:`~leadscore.errors.DataValidationError`, warnings are logged. Callers that check a
        larger input chunk by chunk themselves (batch scoring, Dask) pass ``contract_checked=True``.
        """
        require_columns(raw, [self.id_column], what="params columns.id", source=source)
        contract = self.contract
        if not contract_checked:
            if len(raw):
                require_columns(raw, self.input_columns, what="the scorer's input columns", source=source)
            check = ContractCheck(contract, id_column=self.id_column, source=source)
            check.update(raw)
            check.finish()
        if len(raw) == 0:
            # No open leads (e.g. an export of closed history only): an empty table, same columns.
            require_columns(raw, self.input_columns, what="the scorer's input columns", source=source)
            empty = self._empty(raw)
            return empty.assign(**{c: pd.Series([], dtype="str") for c in REASON_COLUMNS}) if explain else empty
        # With a contract the input was checked over the whole input; without one the featurizer
        # applies its own (older, per-table) rules.
        X_fit, X_intent = self.featurizer.transform(raw, source=source, checked=contract is not None)
        p_fit, p_intent, p_conv = self._probabilities(X_fit, X_intent)
        quadrant = assign_quadrants(p_fit, p_intent, self.fit_threshold, self.intent_threshold)
        actions = {**DEFAULT_ACTIONS, **self.display.actions}
        met, qualified = bant_score(raw, self.bant, source=source, missing_values=self.featurizer.missing_values)
        quadrant_codes = pd.Categorical(quadrant, categories=QUADRANTS).codes
        out = pd.DataFrame(
            {
                self.id_column: id_text(raw[self.id_column]).to_numpy(),
                "fit_probability": p_fit,
                "intent_probability": p_intent,
                "conversion_probability": p_conv,
                "quadrant": np.asarray(QUADRANTS, dtype=object)[quadrant_codes],
                "recommended_action": np.asarray([actions[q] for q in QUADRANTS], dtype=object)[quadrant_codes],
                "bant_criteria_met": met.to_numpy(),
                "bant_qualified": qualified.to_numpy(),
            }
        )
        # Ties broken by position so the ranking is deterministic.
        out["rank"] = pd.Series(-p_conv).rank(method="first").astype(np.int64).to_numpy()
        if explain:
            reasons = explain_leads(self, raw, X_fit, X_intent, p_fit, p_intent)
            for column in reasons.columns:
                out[column] = reasons[column].to_numpy()
        return out

    def _empty(self, raw: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {
                self.id_column: id_text(raw[self.id_column]).reset_index(drop=True),
                "fit_probability": np.array([], dtype=float),
                "intent_probability": np.array([], dtype=float),
                "conversion_probability": np.array([], dtype=float),
                # "str": the dtype pandas infers for text in predict's non-empty path.
                "quadrant": pd.Series([], dtype="str"),
                "recommended_action": pd.Series([], dtype="str"),
                "bant_criteria_met": np.array([], dtype=np.int64),
                "bant_qualified": np.array([], dtype=bool),
                "rank": np.array([], dtype=np.int64),
            }
        )
