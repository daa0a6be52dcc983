"""Run the DVC stages in-process under a scratch directory: for tests, benchmarks and notebooks.

The stages and their paths are read from dvc.yaml (where they are stated once), re-rooted under
``workdir``, and each stage's ``run`` is called with a :class:`~leadscore.config.Params` object that
may differ from params.yaml (smaller data, other hyperparameters). No DVC project, no MLflow: the
``register`` stage runs only when asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from leadscore.config import Params
from leadscore.errors import ConfigError
from leadscore.pipeline.paths import StageCommand, stage_commands


@dataclass(frozen=True)
class LocalRun:
    """The stages that ran and where their files are."""

    workdir: Path
    commands: dict[str, StageCommand]

    @classmethod
    def through(cls, workdir: str | Path, *, dvc_yaml: str | Path, through: str) -> LocalRun:
        """The run of dvc.yaml's stages up to and including ``through`` under ``workdir`` (to find its files)."""
        commands = stage_commands(dvc_yaml)
        if through not in commands:
            raise ConfigError(f"{dvc_yaml}: no stage {through!r} (stages: {list(commands)})")
        ran = list(commands)[: list(commands).index(through) + 1]
        return cls(workdir=Path(workdir), commands={stage: commands[stage] for stage in ran})

    def path(self, stage: str, option: str) -> Path:
        """Where ``stage``'s ``--option`` points, under the run's directory."""
        value = self.commands[stage].options[option]
        if not isinstance(value, str):
            raise ConfigError(f"stage {stage!r} option {option!r} is not a single path")
        return self.workdir / value

    def paths(self, stage: str, option: str) -> list[Path]:
        """Every path a repeated option (``predict --out a --out b``) names, under the run's directory."""
        value = self.commands[stage].options[option]
        values = value if isinstance(value, list) else [value]
        return [self.workdir / v for v in values if isinstance(v, str)]


def _rerooted(value: str | list[str] | bool, workdir: Path) -> str | list[str] | bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, list):
        return [str(workdir / v) for v in value]
    return str(workdir / value)


def run_stages(
    params: Params,
    *,
    workdir: str | Path,
    dvc_yaml: str | Path,
    through: str = "predict",
    skip: Iterable[str] = ("register",),
    start: str | None = None,
) -> LocalRun:
    """Run dvc.yaml's stages in order up to and including ``through``, every file under ``workdir``.

    ``start``: begin at this stage (the earlier ones' files must already be under ``workdir``).
    """
    commands = stage_commands(dvc_yaml)
    for stage in (through, start):
        if stage is not None and stage not in commands:
            raise ConfigError(f"{dvc_yaml}: no stage {stage!r} (stages: {list(commands)})")
    known = list(commands)[: list(commands).index(through) + 1]
    order = known[known.index(start) :] if start in known else [] if start is not None else known
    workdir = Path(workdir)
    skipped = set(skip)
    for stage in order:
        if stage in skipped:
            continue
        command = commands[stage]
        kwargs = {name: _rerooted(value, workdir) for name, value in command.options.items()}
        if stage == "register":
            kwargs["params_path"] = str(workdir / "params.yaml")
        # A stage's options may name its group (train --group fit): those are values, not paths.
        if "group" in command.options:
            kwargs["group"] = command.options["group"]
        importlib.import_module(command.module).run(params, **kwargs)
    return LocalRun.through(workdir, dvc_yaml=dvc_yaml, through=through)


def small_params(params: Params, *, n_leads: int, n_estimators: int = 300, learning_rate: float = 0.1) -> Params:
    """``params`` on ``n_leads`` synthetic leads with a small training budget (tests, benchmark examples).

    Few, larger boosting steps: early stopping still picks the size, so the models stay sensible.
    """
    train = params.train
    budget = {"n_estimators": n_estimators, "learning_rate": learning_rate}
    return params.model_copy(
        update={
            "data": params.data.model_copy(
                update={"synthetic": params.data.synthetic.model_copy(update={"n_leads": n_leads})}
            ),
            "train": train.model_copy(
                update={
                    "early_stopping_rounds": min(train.early_stopping_rounds, 20),
                    "fit": train.fit.model_copy(update=budget),
                    "intent": train.intent.model_copy(update=budget),
                }
            ),
        }
    )
