"""``python -m gan_core`` runs the CLI, for environments without the ``gan`` script."""

from .cli import main

main()
