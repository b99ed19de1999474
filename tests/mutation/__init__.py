"""Mutation testing: would the suite notice if this line were wrong?

    python -m tests.mutation                       # every target module (an hour or more)
    python -m tests.mutation engine/decisions/offers.py --jobs 2
    python -m tests.mutation --list                # the targets and the tests each one runs

Each target module is changed one small way at a time (a comparison flipped, a condition
dropped, a constant moved by one, a numpy mask operator swapped, a `max` made `min`, an
augmented assignment removed, a SQL `where` condition dropped...). For every such mutant
the tests that guard the module run against it; a mutant is *killed* when one of them
fails. The score is killed / (killed + survived); survivors are listed with their line
and change, so a developer can write the test that was missing. Not part of the CI run:
it is slow by nature (`docs/testing.md`).
"""
