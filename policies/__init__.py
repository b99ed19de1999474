"""Shipped policies and jurisdiction profiles (data files; this module only locates them).

Found with `importlib.resources`, so they are where the installed package put them,
whether installed from a wheel or in editable mode.
"""
from importlib.resources import files
from pathlib import Path

POLICIES_DIR = Path(str(files(__name__)))
DEFAULT_POLICY = POLICIES_DIR / "default.yaml"
PROFILES_DIR = POLICIES_DIR / "profiles"
