"""passkeys.ceremonies.trust: the MDS3 BLOB and its root, read once per change (no database)."""

from __future__ import annotations

import os
import time

import pytest
from ceremony_helpers import trust_from
from softkey import VIRTUAL_AAGUID, MdsSigner, mds_entry

from smishguard.config import WebAuthnPolicy
from smishguard.passkeys import ceremonies as c
from smishguard.passkeys import errors


def test_mds_blob_signed_by_another_root_is_not_trusted(tmp_path):
    policy = trust_from(tmp_path, entries=[mds_entry(VIRTUAL_AAGUID, "x")], trusted_signer=MdsSigner.create())
    with pytest.raises(errors.TrustStoreError, match="does not verify"):
        c.load_trust(policy)


def test_mds_blob_without_its_root_is_refused(tmp_path):
    policy = trust_from(tmp_path, entries=[])
    with pytest.raises(errors.TrustStoreError):
        c.load_trust(WebAuthnPolicy(mds_blob_path=policy.mds_blob_path))
    with pytest.raises(errors.TrustStoreError):
        c.load_trust(
            WebAuthnPolicy(mds_blob_path=str(tmp_path / "missing"), mds_root_cert_path=policy.mds_root_cert_path)
        )


def test_trust_store_is_reloaded_when_the_blob_changes(tmp_path):
    signer = MdsSigner.create()
    policy = trust_from(tmp_path, signer=signer, entries=[mds_entry(VIRTUAL_AAGUID, "First name")])
    assert c.load_trust(policy).model_name(VIRTUAL_AAGUID) == "First name"
    assert c.load_trust(policy) is c.load_trust(policy)
    (tmp_path / "blob.jwt").write_bytes(signer.blob([mds_entry(VIRTUAL_AAGUID, "Second name")], number=2))
    later = time.time() + 5
    os.utime(tmp_path / "blob.jwt", (later, later))
    assert c.load_trust(policy).model_name(VIRTUAL_AAGUID) == "Second name"
