"""Reliability and security tests: faults, kills, bad input, leaks (issue 6)."""
