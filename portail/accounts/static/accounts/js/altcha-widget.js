// The anti-robot widget (ALTCHA), from our own static files: the "external" build runs under our
// Content-Security-Policy (no inline style, no blob worker); we give it its worker and French.
import "../vendor/altcha/altcha.min.js";
import "../vendor/altcha/i18n/fr-fr.js";

const shaWorker = new URL("../vendor/altcha/workers/sha.js", import.meta.url);
for (const algorithm of ["SHA-256", "SHA-384", "SHA-512"]) {
  globalThis.$altcha.algorithms.set(algorithm, () => new Worker(shaWorker));
}
