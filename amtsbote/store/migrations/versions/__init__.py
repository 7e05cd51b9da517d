"""Alembic revisions of the work-item store, one module each (oldest first by revision chain)."""
