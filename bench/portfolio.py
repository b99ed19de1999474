"""The synthetic portfolio generator, for the benchmarks (it lives in `arrears.engine.demo`)."""
from arrears.engine.demo import JURISDICTIONS, generate, generate_account  # noqa: F401
