"""Connectors: turn every outside format and system into typed records and back."""
