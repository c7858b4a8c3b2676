"""Apps that smishguard protects in the demos and tests (not part of the smishguard package)."""
