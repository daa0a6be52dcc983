"""leadscore: learn lead fit and intent from closed-won/lost history.

Importing the package does nothing but define names: no I/O, no MLflow, no directories.
"""

__version__ = "0.1.0"
