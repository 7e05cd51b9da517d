"""Tests of the work-item store on real databases (SQLite file, PostgreSQL)."""
