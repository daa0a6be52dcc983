"""What every stage command shares: one-line errors, logging, params loading, a status spinner."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from leadscore.errors import LeadscoreError

if TYPE_CHECKING:
    from leadscore.config import Params

console = Console(stderr=True)
ParamsOpt = Annotated[Path, typer.Option("--params", help="params.yaml to read")]
DEFAULT_PARAMS = Path("params.yaml")

F = TypeVar("F", bound=Callable[..., Any])


def setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(message)s", handlers=[RichHandler(console=console, show_path=False)], force=True
    )


def friendly(func: F) -> F:
    """Run a command; turn a :class:`LeadscoreError` into one red line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        setup_logging()
        try:
            return func(*args, **kwargs)
        except LeadscoreError as err:
            # soft_wrap: the message stays one line however narrow the terminal (or a log) is.
            # escape: a message quoting "[...]" (a value, a column) must not be eaten as Rich markup.
            console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]


def load(path: Path) -> Params:
    """params.yaml -> validated, frozen :class:`~leadscore.config.Params`."""
    from leadscore.config import load_params

    return load_params(path)


@contextlib.contextmanager
def status(message: str) -> Iterator[None]:
    """A spinner while a stage works (stderr, so piped output stays clean)."""
    with console.status(message):
        yield


def main(command: Callable[..., Any]) -> None:
    """Run one stage command as a program (``python -m leadscore.pipeline.<stage>``)."""
    app = typer.Typer(add_completion=False)
    app.command()(command)
    app()
