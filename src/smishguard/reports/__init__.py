"""Reported texts, campaigns and the response; also the protected brands the detection engine looks for."""
