// Passkeys (WebAuthn): the browser's ceremonies for the portal's pages.
// A form marked data-passkey-register adds a key; a button marked data-passkey-check proves one
// (login, login without password, step-up, removal). The server draws the challenge and checks
// the answer (portail/accounts/passkey_views.py); this only carries them.

const CANCELLED =
  "La clé d'accès n'a pas été utilisée (opération annulée ou délai dépassé). Réessayez.";
const UNSUPPORTED = "Votre navigateur ne permet pas d'utiliser les clés d'accès.";

function csrfToken(root) {
  const input = root.querySelector("input[name=csrfmiddlewaretoken]") ||
    document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

async function post(url, root, fields) {
  const body = new FormData();
  for (const [key, value] of Object.entries(fields)) body.append(key, value);
  const response = await fetch(url, {
    method: "POST",
    body,
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken(root) },
  });
  return response.json();
}

function say(root, message) {
  const region = root.querySelector("[data-passkey-message]");
  if (!region) return;
  region.hidden = !message;
  region.querySelector("p").textContent = message;
  if (message) region.focus();
}

function supported() {
  return Boolean(window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON);
}

async function register(form) {
  const name = form.querySelector("input[name=name]").value.trim();
  if (!name) {
    say(form, "Donnez un nom à cette clé d'accès, par exemple « Ordinateur du bureau ».");
    return;
  }
  const options = await post(form.dataset.optionsUrl, form, {});
  if (options.error) return say(form, options.error);
  let credential;
  try {
    credential = await navigator.credentials.create({
      publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
    });
  } catch (error) {
    return say(form, CANCELLED);
  }
  const answer = await post(form.action, form, {
    name,
    next: form.querySelector("input[name=next]")?.value || "",
    credential: JSON.stringify(credential.toJSON()),
  });
  if (answer.redirect) window.location.assign(answer.redirect);
  else say(form, answer.error);
}

async function check(root) {
  const options = await post(root.dataset.optionsUrl, root, {});
  if (options.error) return say(root, options.error);
  let credential;
  try {
    credential = await navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
    });
  } catch (error) {
    return say(root, CANCELLED);
  }
  const answer = await post(root.dataset.checkUrl, root, {
    next: root.dataset.next || "",
    remove: root.dataset.remove || "",
    credential: JSON.stringify(credential.toJSON()),
  });
  if (answer.redirect) window.location.assign(answer.redirect);
  else say(root, answer.error);
}

for (const form of document.querySelectorAll("[data-passkey-register]")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!supported()) return say(form, UNSUPPORTED);
    register(form).catch(() => say(form, CANCELLED));
  });
}
for (const root of document.querySelectorAll("[data-passkey-check]")) {
  root.hidden = false;
  root.querySelector("button").addEventListener("click", () => {
    if (!supported()) return say(root, UNSUPPORTED);
    check(root).catch(() => say(root, CANCELLED));
  });
}
