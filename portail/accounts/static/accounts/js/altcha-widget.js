// The anti-robot widget (ALTCHA), from our own static files: the "external" build runs under our
// Content-Security-Policy (no inline style, no blob worker); we give it its worker and French.
import "../vendor/altcha/altcha.min.js";
import "../vendor/altcha/i18n/fr-fr.js";

const shaWorker = new URL("../vendor/altcha/workers/sha.js", import.meta.url);
for (const algorithm of ["SHA-256", "SHA-384", "SHA-512"]) {
  globalThis.$altcha.algorithms.set(algorithm, () => new Worker(shaWorker));
}

// The proof of work starts with the first input in the form (#17 item 11), so that it is done
// by the time the person reaches the checkbox; clicking it still works.
const RESTART = new Set(["unverified", "expired"]);
customElements.whenDefined("altcha-widget").then(() => {
  for (const widget of document.querySelectorAll("altcha-widget")) {
    widget.closest("form")?.addEventListener("input", (event) => {
      if (!widget.contains(event.target) && RESTART.has(widget.getState())) {
        widget.verify();
      }
    });
  }
});
