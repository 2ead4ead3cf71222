"""µprograms: in-DRAM operations written as sequences of AAP/AP commands (``.pim`` files).

``parse`` reads the text format, ``check`` rejects what real hardware would not do, and
``lib/`` holds the built-in operations (Ambit's not/and/or/nand/nor/xor/xnor and RowClone's
copy/zero/one), which are data like any user program.
"""
