"""Example counts that follow the Hypothesis profile (see tests/conftest.py, docs/testing.md).

A test that sets its own `max_examples` overrides the profile's; `examples(n)` keeps that
count under the `ci` profile and scales it with the loaded profile (x10 under `deep`), so
`ARREARS_HYPOTHESIS_PROFILE=deep` searches harder everywhere.
"""
from __future__ import annotations

from hypothesis import settings

CI_EXAMPLES = 100                     # max_examples of the `ci` profile


def examples(n: int) -> int:
    """`n` examples under the `ci` profile, proportionally more under a bigger one."""
    return max(1, round(n * settings.default.max_examples / CI_EXAMPLES))


def derandomize() -> bool:
    """Whether the loaded profile draws the same cases every run (`ci`) or fresh ones (`deep`)."""
    return settings.default.derandomize
