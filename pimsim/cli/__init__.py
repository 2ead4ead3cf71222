"""The ``pimsim`` command line (click): one module per subcommand, shared options in options.py.

Only this package imports click.
"""
