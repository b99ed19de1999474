"""`python -m engine` runs the `arrears` command line."""
import sys

from arrears.engine.cli import main

sys.exit(main())
