"""passkeys.ceremonies.options: what the browser is asked for (no database)."""

from __future__ import annotations

from ceremony_helpers import RP_ID, creation_options

from smishguard.config import WebAuthnPolicy
from smishguard.passkeys import ceremonies as c


def test_registration_options_json_form():
    options = creation_options().to_dict()
    assert options["rp"] == {"id": RP_ID, "name": "Example"}
    assert options["attestation"] == "direct"
    assert options["authenticatorSelection"] == {
        "residentKey": "preferred",
        "requireResidentKey": False,
        "userVerification": "required",
    }
    assert {"type": "public-key", "alg": -7} in options["pubKeyCredParams"]


def test_authentication_options_carry_allowed_keys():
    options = c.authentication_options(
        rp_id=RP_ID, policy=WebAuthnPolicy(), allow_credentials=[(b"\x02" * 16, ["usb", "bogus"])]
    )
    assert options.to_dict()["allowCredentials"] == [
        {"type": "public-key", "id": c.to_base64url(b"\x02" * 16), "transports": ["usb"]}
    ]
    assert len(options.challenge) >= 16
