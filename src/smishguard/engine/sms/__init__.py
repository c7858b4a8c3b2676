"""Verdicts for SMS texts: links, a text model, and the lookalike rule."""
