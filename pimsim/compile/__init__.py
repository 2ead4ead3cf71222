"""Logic to µprograms: an expression or a netlist compiled to a verified ``.pim`` program.

``expr`` and ``netlist`` read sources into a ``network``; ``mig`` maps it to a
majority-inverter graph; ``schedule`` places it on the compute rows a ``machine`` (the
decoder table) offers; ``emit`` writes the program; ``verify`` runs it on the host and
proves the mapping; ``compiler.compile_network`` does all of it (``pimsim compile``).
"""
