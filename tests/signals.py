"""Ctrl-C in subprocess tests.

A shell without job control starts background commands with SIGINT ignored, and a child
inherits that: pytest launched as ``cmd &`` (CI runners do) would then start pimsim deaf to
the SIGINT a test sends. Passed as ``preexec_fn``, :func:`restore_sigint` gives the child the
default action back before it execs, so Python installs its KeyboardInterrupt handler.
"""

import signal


def restore_sigint() -> None:
    """Give SIGINT its default action (in the child, before exec)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
