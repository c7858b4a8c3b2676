// The browser side of the WebAuthn ceremonies: sign-in (form[data-webauthn="signin"]) and key registration
// ([data-webauthn="register"], with data-token for an enrolment link, without it for a signed-in employee's
// backup key) and the step-up ([data-webauthn="stepup"] with data-next; also run by itself when adding a key
// answers step_up_required: touch one of your registered keys, then the new one). Options and responses travel in the WebAuthn Level 3 JSON forms, so the browser does the
// base64url work: PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON and
// credential.toJSON().
(function () {
  "use strict";

  class ApiError extends Error {
    constructor(message, code, status) {
      super(message);
      this.name = "ApiError";
      this.code = code;
      this.status = status;
    }
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  async function api(path, body) {
    let response;
    try {
      response = await fetch(path, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body || {}),
      });
    } catch (networkError) {
      throw new ApiError("Could not reach the server. Check your connection and try again.", "network", 0);
    }
    let data = null;
    try {
      data = await response.json();
    } catch (notJson) {
      data = null;
    }
    if (!response.ok) {
      const error = data && data.error;
      if (response.status === 403 && !error) {
        throw new ApiError("The request was refused (the page may be stale). Reload the page and try again.", "forbidden", 403);
      }
      throw new ApiError(
        (error && error.message) ? error.message : "The server refused the request (HTTP " + response.status + ").",
        error ? error.code : "http_" + response.status,
        response.status
      );
    }
    return data;
  }

  function explain(error) {
    if (error instanceof ApiError) return error.message.charAt(0).toUpperCase() + error.message.slice(1);
    switch (error && error.name) {
      case "NotAllowedError":
        return "The security key did not respond: the request was cancelled or timed out, or this key is not " +
          "registered for this site. Try again and touch your key when it blinks.";
      case "SecurityError":
        return "Your browser refused because this page's address does not match the site your key is registered " +
          "for. Check the address bar: you may be on a lookalike site. Do not continue; tell the security team.";
      case "InvalidStateError":
        return "This security key is already registered to your account. Use a different key.";
      case "AbortError":
        return "The request was cancelled. Try again when you are ready.";
      case "NotSupportedError":
        return "This browser or key does not support what the security policy requires (for example a PIN). " +
          "Try another key or browser.";
      case "ConstraintError":
        return "This key cannot verify you (it needs a PIN or fingerprint). Set one up on the key and try again.";
      default:
        return "Something went wrong: " + ((error && error.message) || String(error));
    }
  }

  function supported() {
    return Boolean(
      window.PublicKeyCredential &&
      typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
      typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function"
    );
  }

  function statusOf(root) {
    const box = root.querySelector("[data-webauthn-status]");
    return function (state, message) {
      if (!box) return;
      box.setAttribute("data-state", state);
      box.textContent = message;
    };
  }

  function busy(button, on) {
    if (!button) return;
    if (on) {
      button.dataset.label = button.textContent;
      if (button.dataset.busyLabel) button.textContent = button.dataset.busyLabel;
      button.setAttribute("aria-busy", "true");
      button.disabled = true;
    } else {
      if (button.dataset.label) button.textContent = button.dataset.label;
      button.removeAttribute("aria-busy");
      button.disabled = false;
    }
  }

  // The options endpoints answer with the JSON options themselves; accept {"publicKey": ...} as well.
  function unwrap(options) {
    return options && options.publicKey ? options.publicKey : options;
  }

  async function signIn(form) {
    const show = statusOf(form);
    const button = form.querySelector("button[type=submit]");
    const email = (form.querySelector("input[name=email]") || { value: "" }).value.trim();
    busy(button, true);
    show("busy", "Waiting for your security key… insert or tap it now.");
    try {
      const options = await api("/api/webauthn/login/options", email ? { email: email } : {});
      const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(unwrap(options));
      const credential = await navigator.credentials.get({ publicKey: publicKey });
      if (!credential) throw new ApiError("No security key answered. Try again.", "no_credential", 0);
      show("busy", "Checking your key…");
      const body = credential.toJSON();
      const next = form.dataset.next && form.dataset.next !== "/" ? form.dataset.next : "";
      if (next) body.next = next;
      const result = await api("/api/webauthn/login/verify", body);
      show("ok", "Signed in as " + (result && result.name ? result.name : "you") + ". Redirecting…");
      window.location.assign((result && result.redirect) || next || "/");
    } catch (error) {
      show("error", explain(error));
      busy(button, false);
    }
  }

  // A fresh touch of one of the signed-in employee's own keys, recorded on the session (step-up).
  // With next, the answer's redirect says where to go (the server decides; the gateway's rd may be another host).
  async function stepUp(next) {
    const options = await api("/api/webauthn/stepup/options", {});
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(unwrap(options));
    const credential = await navigator.credentials.get({ publicKey: publicKey });
    if (!credential) throw new ApiError("No security key answered. Try again.", "no_credential", 0);
    const body = credential.toJSON();
    if (next && next !== "/") body.next = next;
    return api("/api/webauthn/stepup/verify", body);
  }

  function localPath(value) {
    return value && value.charAt(0) === "/" && value.charAt(1) !== "/" && value.indexOf("\\") < 0 ? value : "/";
  }

  async function stepUpPage(root, button) {
    const show = statusOf(root);
    busy(button, true);
    show("busy", "Touch one of your registered security keys now.");
    try {
      const result = await stepUp(root.dataset.next);
      show("ok", "Thank you. Returning…");
      window.location.assign((result && result.redirect) || localPath(root.dataset.next));
    } catch (error) {
      show("error", explain(error));
      busy(button, false);
    }
  }

  async function registrationOptions(token, show) {
    try {
      return await api("/api/webauthn/register/options", token ? { token: token } : {});
    } catch (error) {
      if (token || !(error instanceof ApiError) || error.code !== "step_up_required") throw error;
      show("busy", "First touch one of your registered keys to confirm it is you…");
      await stepUp();
      show("busy", "Now insert or tap the NEW security key and follow your browser's prompts.");
      return api("/api/webauthn/register/options", {});
    }
  }

  async function register(root, button) {
    const show = statusOf(root);
    const token = root.dataset.token || "";
    const nameField = root.querySelector("input[name=name]");
    const name = nameField ? nameField.value.trim() : "";
    busy(button, true);
    show("busy", "Insert or tap your security key and follow your browser's prompts (you may be asked for its PIN).");
    try {
      const options = await registrationOptions(token, show);
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(unwrap(options));
      const credential = await navigator.credentials.create({ publicKey: publicKey });
      if (!credential) throw new ApiError("No security key answered. Try again.", "no_credential", 0);
      show("busy", "Checking your key…");
      const body = credential.toJSON();
      if (token) body.token = token;
      if (name) body.name = name;
      const result = await api("/api/webauthn/register/verify", body);
      const model = result && result.model && result.model !== "unverified" ? ": " + result.model : "";
      if (root.dataset.done === "reload") {
        show("ok", "Key registered" + model + ". Updating the list…");
        window.location.reload();
        return;
      }
      show("ok", "Your security key is registered" + model + ". You can now sign in with it.");
      button.hidden = true;
      if (nameField) nameField.disabled = true;
      const done = root.querySelector("[data-webauthn-done]");
      if (done) done.hidden = false;
    } catch (error) {
      show("error", explain(error));
      busy(button, false);
    }
  }

  function init() {
    const roots = document.querySelectorAll("[data-webauthn]");
    if (!roots.length) return;
    if (!supported()) {
      roots.forEach(function (root) {
        statusOf(root)("error", "This browser cannot use security keys here. Use an up-to-date Chrome, Edge, " +
          "Firefox or Safari, on this site's https address.");
        root.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      });
      return;
    }
    roots.forEach(function (root) {
      if (root.dataset.webauthn === "signin") {
        root.addEventListener("submit", function (event) {
          event.preventDefault();
          signIn(root);
        });
      } else if (root.dataset.webauthn === "stepup") {
        const button = root.querySelector("[data-webauthn-start]");
        if (button) button.addEventListener("click", function () { stepUpPage(root, button); });
      } else if (root.dataset.webauthn === "register") {
        const button = root.querySelector("[data-webauthn-start]");
        if (button) button.addEventListener("click", function () { register(root, button); });
        const nameField = root.querySelector("input[name=name]");
        if (nameField && button) {
          nameField.addEventListener("keydown", function (event) {
            if (event.key === "Enter") { event.preventDefault(); register(root, button); }
          });
        }
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();

  window.smishguardWebAuthn = { api: api, explain: explain, supported: supported, stepUp: stepUp };
})();
