"""The synthetic portfolio generator, for the benchmarks (it lives in `engine.demo`)."""
from engine.demo import JURISDICTIONS, generate, generate_account  # noqa: F401
