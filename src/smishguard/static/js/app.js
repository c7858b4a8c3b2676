// Small progressive enhancements for every page: copy buttons and confirmations on destructive forms.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    const done = function () {
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });

  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();

// The main menu (base.html) is a <details>: collapsed on a phone, always shown on a wide screen. app.css shows
// its content on a wide screen through ::details-content; where a browser does not know that pseudo-element,
// open it here instead (and follow the window across the breakpoint).
(function () {
  "use strict";
  const menu = document.querySelector("details[data-menu]");
  if (!menu || !window.matchMedia) return;
  let known = false;
  try { known = CSS.supports("selector(::details-content)"); } catch (e) { known = false; }
  if (known) return;
  const wide = window.matchMedia("(min-width: 861px)");
  const follow = function () { menu.open = wide.matches; };
  follow();
  if (wide.addEventListener) wide.addEventListener("change", follow);
})();
