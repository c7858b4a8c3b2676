"""Detection: the protected brands and keywords, the matcher and text model built from them, ``scan``."""
