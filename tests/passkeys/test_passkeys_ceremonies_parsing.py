"""passkeys.ceremonies.parsing: what the browser sent, malformed input refused (no database)."""

from __future__ import annotations

import pytest

from smishguard.passkeys import ceremonies as c
from smishguard.passkeys import errors


@pytest.mark.parametrize("data", [b"{", "[]", {"id": "x"}, {"id": "AA", "rawId": "AA", "type": "public-key"}])
def test_parse_refuses_malformed_credentials(data):
    with pytest.raises(errors.MalformedCredential):
        c.parse_authentication_response(data)
    with pytest.raises(errors.MalformedCredential):
        c.parse_registration_response(data)


def test_malformed_credential_is_a_value_error():
    assert issubclass(errors.MalformedCredential, ValueError)
    assert errors.MalformedCredential.status == 400
