"""The pipeline's file paths, read from dvc.yaml: the one place they are stated.

Every stage's ``cmd`` is ``python -m leadscore.pipeline.<module> --option path ...``; this module
parses those commands so tests, benchmarks and notebooks use the same paths (or the same layout
under a scratch directory) without repeating them.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

import yaml

from leadscore.errors import ConfigError

MODULE_PREFIX = "leadscore.pipeline."


@dataclass(frozen=True)
class StageCommand:
    """One dvc.yaml stage: its name, the pipeline module it runs and its command-line options.

    ``options`` maps the option name in Python form (``--leads-out`` -> ``leads_out``) to a string,
    a list of strings (a repeated option) or ``True`` (a flag).
    """

    stage: str
    module: str
    options: dict[str, str | list[str] | bool]


def _parse_cmd(stage: str, cmd: str, source: str) -> StageCommand:
    words = shlex.split(cmd)
    if len(words) < 3 or words[:2] != ["python", "-m"] or not words[2].startswith(MODULE_PREFIX):
        raise ConfigError(f"{source}: stage {stage!r}: cmd must start with 'python -m {MODULE_PREFIX}<stage>'")
    options: dict[str, str | list[str] | bool] = {}
    rest = words[3:]
    i = 0
    while i < len(rest):
        word = rest[i]
        if not word.startswith("--"):
            raise ConfigError(f"{source}: stage {stage!r}: unexpected word {word!r} in cmd")
        name = word[2:].replace("-", "_")
        if i + 1 < len(rest) and not rest[i + 1].startswith("--"):
            value: str | list[str] | bool = rest[i + 1]
            i += 2
        else:
            value, i = True, i + 1
        previous = options.get(name)
        if previous is None:
            options[name] = value
        else:
            options[name] = [*(previous if isinstance(previous, list) else [previous]), value]  # type: ignore[list-item]
    return StageCommand(stage=stage, module=words[2], options=options)


def stage_commands(dvc_yaml: str | Path = "dvc.yaml") -> dict[str, StageCommand]:
    """Every stage of ``dvc_yaml`` in file order (which is the pipeline's order)."""
    path = Path(dvc_yaml)
    if not path.is_file():
        raise ConfigError(f"{path}: not found")
    stages = (yaml.safe_load(path.read_text()) or {}).get("stages", {})
    return {name: _parse_cmd(name, " ".join(str(s["cmd"]).split()), str(path)) for name, s in stages.items()}


def stage_path(stage: str, option: str, *, dvc_yaml: str | Path = "dvc.yaml") -> Path:
    """One path from dvc.yaml, e.g. ``stage_path("calibrate", "scorer_out")``."""
    commands = stage_commands(dvc_yaml)
    if stage not in commands or option not in commands[stage].options:
        raise ConfigError(f"{dvc_yaml}: no option --{option.replace('_', '-')} in stage {stage!r}")
    value = commands[stage].options[option]
    if not isinstance(value, str):
        raise ConfigError(f"{dvc_yaml}: stage {stage!r} option {option!r} is not a single path")
    return Path(value)
