"""Watching a deployed model: input and score drift, outcomes once they arrive."""
