"""The errors a user fixes by changing what they gave: a config, a command line, a checkpoint.

Each message says what is wrong and how to fix it; the commands print it as one line
(``error: <message>``) and exit with :data:`mjx_myoassist.cli.EXIT_ERROR` instead of a traceback.
This module imports nothing from the package, so every layer can raise these.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value is missing, unknown or inconsistent; the message says how to fix it."""


class UsageError(ValueError):
    """A command line that cannot be parsed (unknown option, missing value)."""


class CheckpointError(RuntimeError):
    """A checkpoint is missing, incomplete, corrupted or does not fit this run."""


class SB3ImportError(CheckpointError):
    """A MyoAssist SB3 model zip is unreadable, corrupted or not a MyoAssist policy."""
