"""The one exception type meant for users, and the exit codes the CLI uses.

Everything a user can fix (a typo in a plugin name, a missing data file, a
run directory that is not a run) is raised as :class:`GanError`. The CLI
prints its message as one sentence and exits with ``ExitCode.USAGE_ERROR``;
any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    #: an unexpected failure: a bug in gan or in a plugin
    INTERNAL_ERROR = 1
    #: bad input the user can fix; nothing was written
    USAGE_ERROR = 2
    #: training diverged (a loss or weight became NaN or infinite); the run keeps its last good checkpoint, if any
    DIVERGED = 3
    #: training stopped on request (Ctrl-C) after saving a checkpoint
    INTERRUPTED = 130


class GanError(Exception):
    """A problem the user can fix, told in one sentence.

    The CLI prints ``message`` alone (no traceback unless ``--debug``) and
    exits with ``exit_code``.
    """

    exit_code: int = ExitCode.USAGE_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TrainingDiverged(GanError):
    """A loss or weight became NaN or infinite: training stops, keeping its last good checkpoint if it has one.

    Its own exit code, because unlike a typo it may have written a run (status "diverged" in run.json).
    """

    exit_code: int = ExitCode.DIVERGED


class ComponentError(GanError):
    """A component handed back something its contract forbids (a plugin's bug, not the user's).

    Told in one sentence naming the component and what was wrong; exits with
    ``ExitCode.INTERNAL_ERROR`` because the fix belongs in the plugin.
    """

    exit_code: int = ExitCode.INTERNAL_ERROR
