"""The registered MLflow model, as code: MLflow loads THIS FILE by its path; nothing imports it.

``tracking.log_pipeline_run`` logs it with ``mlflow.pyfunc.log_model(python_model=<this file>,
artifacts={"scorer": lead_scorer.json, "display": display.json})`` ("models from code"). Loading the
model runs this file, which imports leadscore and reads the two JSON files: nothing is unpickled.

Serving (``mlflow models serve``): raw lead rows in (JSON or text/csv), the predict stage's columns out,
with each lead's reasons unless ``params={"explain": false}``. Rows go through the same checks and
``LeadScorer.predict`` as batch scoring (:func:`leadscore.scoring.checks.score_checked`). A bad request
(missing column, wrong type, missing or repeated ids ...) is answered with HTTP 400 and a one-line JSON
body naming the column, never a stack trace.

It lives in the ``leadscore.tracking`` package, the only code that imports MLflow: MLflow requires the
model class to be an ``mlflow.pyfunc.PythonModel`` and the file to end with ``mlflow.models.set_model``.
"""

from __future__ import annotations

import json
import logging

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR, INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel

log = logging.getLogger("leadscore.serving")


class ScoringRequestError(MlflowException):
    """An error answered with exactly ``{"error_code": ..., "message": <one line>}``.

    MLflow's scoring server rewrites ``message`` to prepend the whole request frame (``Failed to predict
    data '<frame>'``) before serialising it; this class serialises the line it was raised with instead.
    """

    def __init__(self, message: str, *, error_code: int = INVALID_PARAMETER_VALUE):
        self.one_line = " ".join(str(message).split())
        super().__init__(self.one_line, error_code=error_code)

    def serialize_as_json(self) -> str:
        return json.dumps({"error_code": self.error_code, "message": self.one_line})


class LeadScorerModel(PythonModel):
    """pyfunc model: the scorer in ``lead_scorer.json`` with the labels and actions of ``display.json``."""

    def load_context(self, context) -> None:
        from leadscore.models.persistence import load_display, load_scorer

        scorer = load_scorer(context.artifacts["scorer"])
        if "display" in context.artifacts:
            scorer = scorer.with_display(load_display(context.artifacts["display"]))
        self.scorer = scorer

    def predict(self, context, model_input, params=None):
        from leadscore.errors import LeadscoreError
        from leadscore.scoring.checks import score_checked

        explain = bool((params or {}).get("explain", True))
        try:
            return score_checked(self.scorer, pd.DataFrame(model_input), source="request", explain=explain)
        except LeadscoreError as err:
            raise ScoringRequestError(str(err)) from None
        except Exception as err:
            # Not the request's fault as far as we know: log the traceback here, answer one line.
            log.exception("scoring failed")
            raise ScoringRequestError(
                f"internal error while scoring ({type(err).__name__}); see the server log", error_code=INTERNAL_ERROR
            ) from None


mlflow.models.set_model(LeadScorerModel())
