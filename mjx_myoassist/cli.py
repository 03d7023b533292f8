"""What the commands share (``train``, ``render``, ``evaluate``, ``sim_minimal.py``).

* ``--config.<key> VALUE`` (or ``--config.<key>=VALUE``) overrides, anywhere on the command line;
* ``--myoassist-root DIR``: the MyoAssist checkout whose relative paths (``model_path``,
  ``prev_trained_policy_path``) a config uses, passed on as ``env_params.myoassist_root``;
* errors: a :class:`~mjx_myoassist.errors.ConfigError`, ``CheckpointError`` or ``UsageError`` (a command
  line argparse refuses) is printed as one line, ``error: <message>``, and exits with :data:`EXIT_ERROR`.

A command builds its parser with :func:`parser`, reads it with :func:`parse`, and runs its body under
:func:`run`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence

from mjx_myoassist.config import split_overrides
from mjx_myoassist.errors import CheckpointError, ConfigError, UsageError

EXIT_OK = 0
EXIT_ERROR = 2  # a config, checkpoint or command-line error: one line on stderr
OVERRIDES_HELP = (
    "Any config value can be overridden: --config.<key> VALUE or --config.<key>=VALUE, e.g. "
    "--config.env_params.max_target_velocity 1.5 (values are read as JSON when they parse)."
)
MYOASSIST_ROOT_HELP = (
    "MyoAssist checkout: the config's model_path and prev_trained_policy_path are looked up there first "
    "(sets env_params.myoassist_root)"
)
ERRORS: dict[type[BaseException], int] = {ConfigError: EXIT_ERROR, CheckpointError: EXIT_ERROR, UsageError: EXIT_ERROR}


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors raise :class:`UsageError` (one line, exit code 2) instead of printing
    the usage and exiting from inside the parser."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{message} (see {self.prog} --help)")


def parser(prog: str, description: str | None, myoassist_root: bool = True) -> Parser:
    """A command's parser: its description, the overrides help at the end and, unless told otherwise,
    ``--myoassist-root``."""
    out = Parser(
        prog=prog, description=description, epilog=OVERRIDES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    if myoassist_root:
        out.add_argument("--myoassist-root", default=None, metavar="DIR", help=MYOASSIST_ROOT_HELP)
    return out


def myoassist_root_override(args: argparse.Namespace) -> list[str]:
    """``--config.env_params.myoassist_root DIR`` when ``--myoassist-root DIR`` was given, else nothing."""
    root = getattr(args, "myoassist_root", None)
    return ["--config.env_params.myoassist_root", str(root)] if root else []


def parse(
    command: argparse.ArgumentParser, argv: Sequence[str], with_root: bool = True
) -> tuple[argparse.Namespace, list[str]]:
    """(arguments, ``--config.<key> VALUE`` overrides) of a command line.  ``with_root``: the overrides
    include ``--myoassist-root`` (:func:`myoassist_root_override`)."""
    rest, overrides = split_overrides(argv)
    args = command.parse_args(rest)
    return args, overrides + (myoassist_root_override(args) if with_root else [])


def fail(message: str, code: int = EXIT_ERROR) -> int:
    """Prints ``error: <message>`` on stderr; returns ``code``."""
    print(f"error: {message}", file=sys.stderr)
    return code


def run(body: Callable[[], int], errors: Mapping[type[BaseException], int] | None = None) -> int:
    """``body()``, with the errors a user fixes (:data:`ERRORS` and ``errors``: type -> exit code) printed
    as one line and returned as their exit code."""
    codes = {**ERRORS, **(errors or {})}
    try:
        return body()
    except tuple(codes) as err:
        return fail(str(err), next(code for kind, code in codes.items() if isinstance(err, kind)))
