"""Batch scoring with an activity log (``leadscore score --activities``, issue 14).

A model trained on an activity log reads each lead's point-in-time log features; this source adds
them to the lead rows of any batch source, chunk by chunk. It lives apart from the pipeline's own
activity code (leadscore.pipeline.activity) because no DVC stage runs it: editing it reruns nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from leadscore.config import Params


class ActivityRowsSource:
    """A batch-scoring source whose chunks gain each lead's point-in-time log features (``leadscore score``).

    Wraps a lead-table source (file or database, :mod:`leadscore.scoring.sources`): each chunk of lead
    rows is scored as of one moment, ``as_of``, at the lead's age then, with only the events logged
    strictly before it: the rows ``predict`` builds for open leads
    (:func:`leadscore.pipeline.activity.open_leads_as_of`), chunk by chunk. A lead created after
    ``as_of`` is refused (its score would be of a lead that did not exist).
    """

    def __init__(self, inner: Any, *, params: Params, events: str | Path, spec: dict[str, Any], as_of: pd.Timestamp):
        self.inner, self.params, self.events, self.spec, self.as_of = inner, params, str(events), spec, as_of

    @property
    def description(self) -> str:
        return str(self.inner.description)

    def count(self) -> int | None:
        return self.inner.count()

    def iter_chunks(self, columns: list[str], chunk_size: int):
        """Chunks of ``columns`` (the scorer's input columns, log features included) plus as_of/age_days."""
        import numpy as np

        from leadscore.data.validation import validate_ids
        from leadscore.errors import DataValidationError
        from leadscore.features.intent_log import AGE, AS_OF, SNAPSHOT_META, WEIGHT, activity_rows, spec_from_dict

        spec = spec_from_dict(self.spec)
        derived = {*spec.feature_names(with_lead_age=True), *SNAPSHOT_META}
        id_col, created = self.params.columns.id, self.params.columns.created_at
        if created is None:
            raise DataValidationError("params columns.created_at: a lead's age needs its creation date (got null)")
        wanted = [c for c in dict.fromkeys([*columns, created]) if c not in derived]
        for chunk in self.inner.iter_chunks(wanted, chunk_size):
            chunk = chunk.reset_index(drop=True)
            # The log is joined on the id: missing or repeated ids are refused before they reach the join
            # (across chunks the input contract refuses repeats, as for any batch).
            validate_ids(chunk, id_col, source=self.description)
            when = pd.to_datetime(chunk[created], errors="coerce", format="mixed")
            late = (when > self.as_of).to_numpy()
            if late.any():
                example, created_on = chunk.loc[late, id_col].iloc[0], chunk.loc[late, created].iloc[0]
                raise DataValidationError(
                    f"{self.description}: {int(late.sum()):,} lead(s) in this chunk were created after the as-of "
                    f"time {self.as_of} (e.g. {example!r}, created {created_on}); "
                    "score as of a later --as-of date or leave them out"
                )
            snapshots = pd.DataFrame(
                {
                    id_col: chunk[id_col].to_numpy(),
                    AS_OF: np.full(len(chunk), self.as_of.to_datetime64()),
                    AGE: ((self.as_of - when) / pd.Timedelta(days=1)).to_numpy(dtype=np.float64),
                    WEIGHT: 1.0,
                }
            )
            yield activity_rows(chunk, self.events, snapshots, params=self.params, spec=spec, source=self.events)
