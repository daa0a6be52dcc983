"""Exceptions that carry one clear, user-facing message.

The CLI catches :class:`LeadscoreError` and prints its message without a traceback, so every
message must name the file/column/key at fault and say what was expected.
"""


class LeadscoreError(Exception):
    """Base class for errors caused by the user's input or configuration."""


class ConfigError(LeadscoreError):
    """params.yaml (or a profile) has an unknown key, a wrong type or a missing value."""


class DataValidationError(LeadscoreError):
    """An input table lacks a column, has a column of the wrong type, or too little data."""


class ModelFileError(LeadscoreError):
    """A model file is missing, empty, truncated, not a leadscore model, of an unknown format version,
    or a pickle that was not explicitly trusted."""


class OutputError(LeadscoreError):
    """An output cannot be written safely: it is the input, a directory leadscore did not write, or unwritable."""
