"""WebAuthn/FIDO2 security keys: ceremonies, policy, credentials."""
