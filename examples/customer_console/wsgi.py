"""The customer console for a WSGI server (gunicorn ``examples.customer_console.wsgi:application``), configured
from the environment: CUSTOMER_CONSOLE_ORIGIN (this app's origin, the assertion's aud),
CUSTOMER_CONSOLE_SMISHGUARD_ORIGIN (the assertion's iss) and optionally CUSTOMER_CONSOLE_JWKS_URL."""

from __future__ import annotations

import os

from .app import CustomerConsole
from .assertion import JWKS_PATH, KeySet, Verifier

_smishguard = os.environ["CUSTOMER_CONSOLE_SMISHGUARD_ORIGIN"].rstrip("/")
application = CustomerConsole(
    Verifier(
        issuer=_smishguard,
        audience=os.environ["CUSTOMER_CONSOLE_ORIGIN"],
        keys=KeySet(os.environ.get("CUSTOMER_CONSOLE_JWKS_URL") or _smishguard + JWKS_PATH),
    )
)
