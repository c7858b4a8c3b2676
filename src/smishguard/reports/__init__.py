"""Reported texts, campaigns and the response (the protected brands are :mod:`smishguard.detection`'s)."""
