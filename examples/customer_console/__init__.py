"""The customer console: the internal app that smishguard's gateway protects in the demo and the tests.

Run it with ``python -m examples.customer_console --port 9000 --origin http://customers.corp.localhost:8080
--smishguard-origin http://auth.corp.localhost:8000`` from the repository root (``--help`` for the rest); it is
not part of the smishguard package and imports nothing from it.
"""

from .app import CustomerConsole
from .assertion import Identity, KeySet, Unverified, Verifier

__all__ = ["CustomerConsole", "Identity", "KeySet", "Unverified", "Verifier"]
