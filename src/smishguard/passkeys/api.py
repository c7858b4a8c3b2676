"""WebAuthn endpoints (registration and sign-in ceremonies)."""

from ninja import Router

router = Router(tags=["webauthn"])
