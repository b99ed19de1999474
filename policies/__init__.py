"""Shipped policies and jurisdiction profiles (data files; this module only locates them)."""
from pathlib import Path

POLICIES_DIR = Path(__file__).resolve().parent
DEFAULT_POLICY = POLICIES_DIR / "default.yaml"
PROFILES_DIR = POLICIES_DIR / "profiles"
