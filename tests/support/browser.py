"""Debian's chromium driven by Playwright, with a virtual FIDO2 security key (see shared/notes)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BASE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Enrol the page's virtual key with an enrolment link's token, as smishguard's own page does (register/options,
# navigator.credentials.create, register/verify): page.evaluate(REGISTER_JS, token) -> {step, status, body}.
REGISTER_JS = """async (token) => {
  const post = async (path, body) => {
    const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                                 body: JSON.stringify(body)});
    return [r.status, await r.json()];
  };
  const [s1, options] = await post("/api/webauthn/register/options", {token});
  if (s1 !== 200) return {step: "options", status: s1, body: options};
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
  const cred = await navigator.credentials.create({publicKey});
  const [s2, body] = await post("/api/webauthn/register/verify", {...cred.toJSON(), token});
  return {step: "verify", status: s2, body};
}"""


@contextlib.contextmanager
def chromium(extra_args: list[str] | None = None) -> Iterator[object]:
    """A headless chromium; yields the Playwright Browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=BASE_ARGS + (extra_args or []))
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class VirtualKey:
    cdp: object
    authenticator_id: str

    def credentials(self) -> list[dict]:
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})["credentials"]

    def remove(self) -> None:
        self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.authenticator_id})

    def set_user_verified(self, verified: bool) -> None:
        self.cdp.send(
            "WebAuthn.setUserVerified", {"authenticatorId": self.authenticator_id, "isUserVerified": verified}
        )


def add_virtual_key(context: object, page: object) -> VirtualKey:
    """A CTAP2.1 USB key with a resident-key store and user verification, that touches itself."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    result = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "ctap2Version": "ctap2_1",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return VirtualKey(cdp, result["authenticatorId"])
