"""The exception hierarchy the CLI relies on: every input/config error is a LeadscoreError."""

from __future__ import annotations

import pytest

from leadscore.errors import ConfigError, DataValidationError, LeadscoreError


@pytest.mark.parametrize("error", [ConfigError, DataValidationError])
def test_input_errors_are_leadscore_errors_and_keep_their_message(error):
    # The CLI catches LeadscoreError only: an input error outside it would print a traceback.
    with pytest.raises(LeadscoreError) as caught:
        raise error("leads.csv: missing column 'status'")
    assert str(caught.value) == "leads.csv: missing column 'status'"
