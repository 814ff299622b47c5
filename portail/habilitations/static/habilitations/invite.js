// "Inviter un utilisateur": the colleague autocomplete and the live summary.
// A module loaded with the page's CSP nonce; no inline script, no inline style.
// Without JavaScript the form still works: "Rechercher" lists the accounts on the server.

const DEBOUNCE_MS = 150;

function setupSummary(form) {
  const roleTarget = document.getElementById("recap-role");
  const companyTarget = document.getElementById("recap-company");
  if (!roleTarget || !companyTarget) return;
  const update = () => {
    const role = form.querySelector('input[name="role"]:checked');
    roleTarget.textContent = role ? role.dataset.label : "…";
    const select = form.querySelector('select[name="establishment"]');
    const option = select ? select.options[select.selectedIndex] : null;
    companyTarget.textContent = option && option.value ? option.dataset.name : "…";
    const where = document.getElementById("recap-where");
    const whereSentence = document.getElementById("recap-establishment");
    if (where && whereSentence) {
      where.textContent = option && option.value ? option.dataset.where : "";
      whereSentence.hidden = !(option && option.value);
    }
  };
  form.addEventListener("change", update);
  update();
}

function setupAutocomplete(form) {
  const input = form.querySelector("#id_user_query");
  const hidden = form.querySelector("#id_user");
  const list = form.querySelector("#user-listbox");
  const status = form.querySelector("#user-status");
  const url = form.dataset.autocompleteUrl;
  if (!input || !hidden || !list || !url) return;
  form.querySelectorAll(".hab-search-button").forEach((button) => button.classList.add("hab-hidden"));

  let timer = null;
  let controller = null;
  let options = [];
  let active = -1;
  let chosenLabel = hidden.value ? input.value : "";

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };

  const highlight = (index) => {
    options.forEach((li, i) => li.setAttribute("aria-selected", i === index ? "true" : "false"));
    active = index;
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    }
  };

  const choose = (li) => {
    hidden.value = li.dataset.id;
    input.value = li.dataset.name;
    chosenLabel = input.value;
    status.textContent = `${li.dataset.name} sélectionné`;
    close();
  };

  const render = (results) => {
    list.replaceChildren();
    options = results.map((result, i) => {
      const li = document.createElement("li");
      li.id = `user-option-${i}`;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.className = "hab-autocomplete__option";
      li.dataset.id = result.id;
      li.dataset.name = result.name || result.email;
      const name = document.createElement("span");
      name.className = "hab-autocomplete__name";
      name.textContent = result.name || result.email;
      const email = document.createElement("span");
      email.className = "hab-autocomplete__email";
      email.textContent = result.email;
      li.append(name, email);
      li.addEventListener("mousedown", (event) => {
        event.preventDefault();
        choose(li);
      });
      list.append(li);
      return li;
    });
    if (options.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent = `${options.length} compte(s) proposé(s)`;
    } else {
      close();
      status.textContent = "Aucun compte de votre entreprise ne correspond à ce nom.";
    }
  };

  const search = async () => {
    const query = input.value.trim();
    if (query.length < 2) {
      close();
      return;
    }
    if (controller) controller.abort();
    controller = new AbortController();
    try {
      const response = await fetch(`${url}?${new URLSearchParams({ q: query })}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: controller.signal,
      });
      if (!response.ok) return;
      const data = await response.json();
      render(data.results || []);
    } catch (error) {
      if (error.name !== "AbortError") status.textContent = "La recherche n’a pas abouti.";
    }
  };

  input.addEventListener("input", () => {
    if (input.value !== chosenLabel) hidden.value = "";
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight(Math.min(active + 1, options.length - 1));
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(Math.max(active - 1, 0));
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(options[active]);
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
}

function setupDoubleSubmit(form) {
  // The server makes a second "CONTINUER" harmless; this only spares the round trip.
  form.addEventListener("submit", (event) => {
    const submitter = event.submitter;
    if (!submitter || submitter.value === "search") return;
    if (form.dataset.submitted === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "true";
  });
}

// With JavaScript (hence DSFR's script), "Inviter un utilisateur" opens the DSFR modal; without
// it, the link to the plain page is shown instead.
// The swap waits until DSFR has set the modal up (it marks it with data-fr-js-modal).
function useModalOnceReady() {
  const modal = document.getElementById("modal-inviter");
  if (!modal) return;
  const swap = () => {
    document.querySelectorAll(".hab-js-only").forEach((item) => item.classList.remove("hab-hidden"));
    document.querySelectorAll(".hab-no-js-only").forEach((item) => item.classList.add("hab-hidden"));
  };
  if (modal.hasAttribute("data-fr-js-modal")) {
    swap();
    return;
  }
  const observer = new MutationObserver(() => {
    if (modal.hasAttribute("data-fr-js-modal")) {
      observer.disconnect();
      swap();
    }
  });
  observer.observe(modal, { attributes: true });
}
useModalOnceReady();

document.querySelectorAll(".hab-invite-form").forEach((form) => {
  setupSummary(form);
  setupAutocomplete(form);
  setupDoubleSubmit(form);
});
