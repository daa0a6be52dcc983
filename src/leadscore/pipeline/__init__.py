"""The DVC stages, one module each: ``python -m leadscore.pipeline.<stage>`` is the stage's command.

Each stage module holds its command (options = the file paths, stated once in dvc.yaml's ``cmd``),
its file I/O, and calls into pure functions of the domain packages (data, features, models,
evaluation). Heavy libraries are imported inside ``run`` so the CLI starts fast.
"""
