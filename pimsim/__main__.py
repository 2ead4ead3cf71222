"""``python -m pimsim``: the same command line as the ``pimsim`` script."""

from pimsim.cli.main import cli

cli(prog_name="pimsim")
