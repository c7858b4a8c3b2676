"""A small bundled AAGUID → model name table, used when no MDS3 BLOB names the model.

A name from this table is only what the authenticator *claims*: without a verified attestation any
software can send any AAGUID, so callers mark such names as unverified.
"""

from __future__ import annotations

ZERO_AAGUID = "00000000-0000-0000-0000-000000000000"

KNOWN_MODELS: dict[str, str] = {
    # Test and virtual authenticators
    "01020304-0506-0708-0102-030405060708": "Chromium virtual authenticator",
    # Yubico
    "cb69481e-8ff7-4039-93ec-0a2729a154a8": "YubiKey 5 Series",
    "ee882879-721c-4913-9775-3dfcce97072a": "YubiKey 5 Series",
    "fa2b99dc-9e39-4257-8f92-4a30d23c4118": "YubiKey 5 Series with NFC",
    "2fc0579f-8113-47ea-b116-bb5a8db9202a": "YubiKey 5 Series with NFC",
    "c5ef55ff-ad9a-4b9f-b580-adebafe026d0": "YubiKey 5Ci",
    "73bb0cd4-e502-49b8-9c6f-b59445bf720b": "YubiKey 5 FIPS Series",
    "149a2021-8ef6-4133-96b8-81f8d5b7f1f5": "Security Key by Yubico with NFC",
    "6d44ba9b-f6ec-2e49-b930-0c8fe920cb73": "Security Key by Yubico with NFC",
    # Google
    "42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3": "Google Titan Security Key v2",
    "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4": "Google Password Manager",
    # Apple
    "fbfc3007-154e-4ecc-8c0b-6e020557d7bd": "Apple iCloud Keychain",
    "dd4ec289-e01d-41c9-bb89-70fa845d4bf2": "Apple iCloud Keychain (managed)",
    # Microsoft
    "08987058-cadc-4b81-b6e1-30de50dcbe96": "Windows Hello",
    "9ddd1817-af5a-4672-a2b9-3e3dd95000a9": "Windows Hello",
    "6028b017-b1d4-4c02-b4b3-afcdafc96bb2": "Windows Hello",
    # Password managers
    "bada5566-a7aa-401f-bd96-45619a55120d": "1Password",
    "d548826e-79b4-db40-a3d8-11116f7e8349": "Bitwarden",
}


def bundled_name(aaguid: str) -> str | None:
    return KNOWN_MODELS.get(aaguid.lower())
