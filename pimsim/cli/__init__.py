"""The ``pimsim`` command line (click): one module per subcommand, shared options in options.py.

Only this package imports click.
"""

import sys


def entry_point() -> None:
    """The ``pimsim`` script. Ctrl-C while the command line is still loading (numpy, SimPy,
    the compiled core: a fraction of a second) exits 130 with one line, as it does later."""
    try:
        from pimsim.cli.main import cli
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)  # options.INTERRUPTED, which is what was being loaded
    cli(prog_name="pimsim")
