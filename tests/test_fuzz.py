"""Malformed inputs of every kind never crash pimsim (tests/fuzzing.py generates and runs them).

Each case runs in a worker process capped at 4 GiB of address space and watched by a
wall-clock bound; a case passes when it exits 0, 1 or 2 without a traceback, ends a failure
with one ``Error:`` line, and does not exit 0 on an input known to be invalid. A valid
configuration is one that ``configs show`` accepts exactly when ``run`` does.
"""

from collections import Counter

import fuzzing
import pytest

SECONDS_PER_CASE = 60  # a hang, not a slow case: cases are tiny but the machine is shared


def _check(outcomes):
    bad = [(o, problems) for o in outcomes if (problems := fuzzing.problems(o))]
    report = "\n".join(
        f"{o.case.kind} {o.case.args} ({o.case.note}): {'; '.join(p)}" for o, p in bad[:20]
    )
    assert not bad, f"{len(bad)} of {len(outcomes)} cases broke the input contract:\n{report}"


def _show_agrees_with_run(outcomes):
    """``configs show`` exits 0 exactly when ``run`` of a two-request trace does."""
    pairs = zip(outcomes[::2], outcomes[1::2], strict=True)
    disagree = [
        (s.case.args, s.exit_code, r.exit_code, r.stderr[-200:])
        for s, r in pairs
        if (s.exit_code == 0) != (r.exit_code == 0)
    ]
    assert not disagree, f"configs show and run disagree: {disagree[:5]}"


def test_fuzz_every_input_kind(tmp_path):
    """A seeded mix: 150 traces, 75 configurations (each shown and run), 150 programs and
    150 command lines."""
    cases = fuzzing.all_cases(seed=2026, per_kind=150)
    outcomes = fuzzing.run_cases(cases, tmp_path, SECONDS_PER_CASE)
    print(Counter((o.case.kind, o.exit_code) for o in outcomes))
    _check(outcomes)
    _show_agrees_with_run([o for o in outcomes if o.case.kind.startswith("config:")])


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fuzz_many_more(tmp_path, seed):
    cases = fuzzing.all_cases(seed=seed, per_kind=1000)
    outcomes = fuzzing.run_cases(cases, tmp_path, SECONDS_PER_CASE)
    print(Counter((o.case.kind, o.exit_code) for o in outcomes))
    _check(outcomes)
    _show_agrees_with_run([o for o in outcomes if o.case.kind.startswith("config:")])
