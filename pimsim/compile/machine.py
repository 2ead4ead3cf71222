"""What a subarray's decoder offers a scheduler: the compute cells, the triple activations
(three d-wordlines: a majority), the addresses a value can be written through (one or two
wordlines, each a cell and whether it is the negated n-wordline) and the single-wordline
addresses a cell can be read through. Taken from the layout's decoder table, so a decoder
other than Ambit's (``-p pim.decoder.B12=...``) is scheduled for as it is."""

from __future__ import annotations

from dataclasses import dataclass

from pimsim.ambit.layout import SubarrayLayout

Wordlines = tuple[tuple[int, int], ...]  # ((cell index, negated), ...)


@dataclass(frozen=True)
class Machine:
    cells: tuple[str, ...]
    triples: tuple[tuple[str, tuple[int, int, int]], ...]  # (row name, cells)
    writes: tuple[tuple[str, Wordlines], ...]  # (row name, wordlines), one or two rows
    reads: tuple[tuple[str, int, int], ...]  # (row name, cell, negated), one row

    @classmethod
    def from_layout(cls, layout: SubarrayLayout) -> Machine:
        cells = tuple(layout.compute_rows)
        triples, writes, reads, seen = [], [], [], set()
        for wordlines in layout.decoder.values():
            raised = tuple((cells.index(w.lstrip("~")), int(w.startswith("~"))) for w in wordlines)
            name = ",".join(wordlines)  # the language names an address by what it raises
            key = frozenset(raised)
            if key in seen or len({c for c, _ in raised}) != len(raised):
                continue
            seen.add(key)
            if len(raised) == 3 and not any(neg for _, neg in raised):
                triples.append((name, tuple(c for c, _ in raised)))
            elif len(raised) in (1, 2):
                writes.append((name, raised))
                if len(raised) == 1:
                    reads.append((name, *raised[0]))
        return cls(cells, tuple(triples), tuple(writes), tuple(reads))

    def writes_to(self, cell: int) -> list[tuple[str, Wordlines]]:
        """The addresses that write ``cell`` (with whatever else they raise)."""
        return [(name, wls) for name, wls in self.writes if any(c == cell for c, _ in wls)]
