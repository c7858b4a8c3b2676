"""smishguard: a defence for companies against SMS-phishing campaigns aimed at their staff."""

__version__ = "0.1.0"
