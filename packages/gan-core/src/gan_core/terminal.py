"""Where ``gan``'s tables go: stdout as a terminal, a file or a pipe, each treated as a Unix tool would.

- To a file or pipe, lines are not wrapped (unless ``COLUMNS`` asks): a table
  saved with ``gan compare ... > table.txt`` keeps one line per row, where
  rich would wrap it at 80 columns.
- A reader that stops early (``gan compare ... | head -1``) is not an
  error: the command ends with exit code 0, where rich would exit 1.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console

#: the width of output that is not a terminal: wide enough that nothing wraps
UNWRAPPED = 10_000


class _Console(Console):
    def on_broken_pipe(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)  # the interpreter's last flush must not raise again
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(0)


def output_console() -> Console:
    """A console on stdout: the terminal's width, else unwrapped (unless COLUMNS is set)."""
    if sys.stdout.isatty() or "COLUMNS" in os.environ:
        return _Console()
    return _Console(width=UNWRAPPED)
