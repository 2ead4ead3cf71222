"""``python -m pimsim``: the same command line as the ``pimsim`` script."""

from pimsim.cli import entry_point

entry_point()
