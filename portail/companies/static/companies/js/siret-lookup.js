/**
 * SIRET lookup: fills an establishment's fields from the company registry as soon as
 * 14 digits are typed. A static ES module (CSP-safe: no inline script, no inline style).
 * Without JavaScript nothing changes: the form's own view looks the SIRET up on submit.
 *
 * Load it once per page:
 *
 *   {% block extra_js %}
 *   <script type="module" src="{% static 'companies/js/siret-lookup.js' %}" nonce="{{ request.csp_nonce }}"></script>
 *   {% endblock %}
 *
 * Markup (attributes read by this module):
 *
 *   <input data-siret-lookup                       the SIRET input (one or more per page)
 *          data-siret-lookup-url="{% url 'companies:siret_lookup' '{siret}' %}"
 *                                                  URL template; "{siret}" (or its encoded form
 *                                                  "%7Bsiret%7D") is replaced by the 14 digits.
 *                                                  `portail.companies.lookup.lookup_url_template()`
 *                                                  gives "/entreprises/siret/{siret}/".
 *          data-siret-scope="#some-fieldset"       optional: CSS selector of the element holding
 *                                                  the fields to fill and the status element;
 *                                                  default: the input's <form>.
 *          aria-describedby="siret-messages">
 *   <div id="siret-messages" class="fr-messages-group" data-siret-status></div>
 *                                                  the status element: the result is announced
 *                                                  there (aria-live="polite" is set if missing),
 *                                                  as a DSFR <p class="fr-message fr-message--…">.
 *   <input data-siret-fill="name">                 filled with the raison sociale
 *   <input data-siret-fill="address">              street line ("12 QUAI DE LA FOSSE")
 *   <input data-siret-fill="postcode">             "44000"
 *   <input data-siret-fill="commune">              "NANTES"
 *   <input data-siret-fill="commune_line">         "44000 NANTES" (for a single "Commune" field)
 *
 * Filled fields stay editable. On success the module also sets `data-siret-verified="true"`
 * on the SIRET input (removed when the SIRET changes) and dispatches, on the SIRET input, a
 * `siret-lookup` CustomEvent whose `detail` is `{status, siret, data, message}`
 * (status: "found", "closed", "invalid", "unknown", "unavailable", "limited", "error").
 * The endpoint answers 200 {siret, siren, name, address, postcode, commune, is_active},
 * or 400 / 404 / 429 / 503 {error} with the French message shown here.
 */

const DIGITS = 14;
const SEPARATORS = /[\s.\-\u00a0\u202f]/g;
const MESSAGES = {
  searching: "Recherche de l'établissement dans le répertoire des entreprises…",
  found: (d) => {
    const what = [d.name, [d.postcode, d.commune].filter(Boolean).join(" ")].filter(Boolean).join(", ");
    return `Établissement trouvé${what ? ` : ${what}` : ""}. Les champs sont pré-remplis : vérifiez-les et ajustez-les au besoin.`;
  },
  closed:
    "Cet établissement est fermé selon le répertoire des entreprises : indiquez le SIRET d'un établissement en activité.",
  length: "Le numéro SIRET doit comporter 14 chiffres.",
  unavailable:
    "Le répertoire des entreprises ne répond pas : vous pouvez saisir les informations à la main.",
};

function lookupUrl(template, siret) {
  if (template.includes("{siret}")) return template.replace("{siret}", siret);
  if (template.includes("%7Bsiret%7D")) return template.replace("%7Bsiret%7D", siret);
  return `${template.replace(/\/?$/, "/")}${siret}/`;
}

function setStatus(input, status, kind, text) {
  input.closest(".fr-input-group")?.classList.toggle("fr-input-group--error", kind === "error");
  input.closest(".fr-input-group")?.classList.toggle("fr-input-group--valid", kind === "valid");
  if (kind === "error") input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  if (!status) return;
  status.setAttribute("aria-busy", kind === "busy" ? "true" : "false");
  status.replaceChildren();
  if (!text) return;
  const message = document.createElement("p");
  const dsfrKind = { error: "error", valid: "valid", busy: "info", info: "info", warning: "warning" }[kind];
  message.className = `fr-message fr-message--${dsfrKind}`;
  message.textContent = text;
  status.append(message);
}

function fill(scope, data) {
  const values = {
    name: data.name,
    address: data.address,
    postcode: data.postcode,
    commune: data.commune,
    commune_line: [data.postcode, data.commune].filter(Boolean).join(" "),
  };
  for (const field of scope.querySelectorAll("[data-siret-fill]")) {
    const key = field.dataset.siretFill;
    if (!(key in values)) continue;
    // An empty value (data INSEE does not publish) clears only what an earlier lookup filled.
    const previous = field.dataset.siretFilledValue;
    const value = values[key] || (previous !== undefined && field.value === previous ? "" : field.value);
    if (value === field.value) continue;
    field.value = value;
    field.dataset.siretFilledValue = value;
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }
}

export function enhance(input) {
  if (input.dataset.siretLookupReady) return;
  input.dataset.siretLookupReady = "true";
  const scope =
    (input.dataset.siretScope && document.querySelector(input.dataset.siretScope)) ||
    input.form ||
    document;
  const status = scope.querySelector("[data-siret-status]");
  if (status && !status.hasAttribute("aria-live")) status.setAttribute("aria-live", "polite");
  const template = input.dataset.siretLookupUrl || "/entreprises/siret/{siret}/";
  // What the server rendered was checked there; anything typed before this module loaded
  // (a fast typist, the browser's autofill) is looked up below, once the listeners are on.
  let current = normalize(input.defaultValue);
  let controller = null;

  function normalize(value) {
    return (value || "").replace(SEPARATORS, "");
  }

  function announce(detail) {
    input.dispatchEvent(new CustomEvent("siret-lookup", { bubbles: true, detail }));
  }

  async function lookup(siret) {
    controller?.abort();
    controller = new AbortController();
    const { signal } = controller;
    setStatus(input, status, "busy", MESSAGES.searching);
    let response;
    let body = {};
    try {
      response = await fetch(lookupUrl(template, siret), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal,
      });
      body = await response.json().catch(() => ({}));
    } catch (error) {
      if (signal.aborted) return;
      setStatus(input, status, "warning", MESSAGES.unavailable);
      announce({ status: "unavailable", siret, data: null, message: MESSAGES.unavailable });
      return;
    }
    if (signal.aborted || normalize(input.value) !== siret) return;
    if (response.ok && body.siret) {
      if (!body.is_active) {
        setStatus(input, status, "error", MESSAGES.closed);
        announce({ status: "closed", siret, data: body, message: MESSAGES.closed });
        return;
      }
      fill(scope, body);
      input.dataset.siretVerified = "true";
      const text = MESSAGES.found(body);
      setStatus(input, status, "valid", text);
      announce({ status: "found", siret, data: body, message: text });
      return;
    }
    const outcome = { 400: "invalid", 404: "unknown", 429: "limited", 503: "unavailable" }[response.status] || "error";
    const text = body.error || MESSAGES.unavailable;
    setStatus(input, status, outcome === "unavailable" ? "warning" : "error", text);
    announce({ status: outcome, siret, data: null, message: text });
  }

  function onInput() {
    const siret = normalize(input.value);
    if (siret === current) return;
    current = siret;
    delete input.dataset.siretVerified;
    if (siret.length === DIGITS && /^\d+$/.test(siret)) {
      lookup(siret);
    } else {
      controller?.abort();
      setStatus(input, status, "none", "");
    }
  }

  input.addEventListener("input", onInput);
  onInput();
  input.addEventListener("change", () => {
    const siret = normalize(input.value);
    if (siret && (siret.length !== DIGITS || !/^\d+$/.test(siret))) {
      setStatus(input, status, "error", MESSAGES.length);
      announce({ status: "invalid", siret, data: null, message: MESSAGES.length });
    }
  });
}

for (const input of document.querySelectorAll("input[data-siret-lookup]")) enhance(input);
