"""Alembic migrations of the work-item store, shipped inside the package (see ``_engine``)."""
