"""Schema revisions, oldest first (Alembic scripts; file names start with the revision)."""
