"""Certificate Transparency watching: lookalike-domain alerts, each log's checkpoint, ``smishguard watch ct``."""
