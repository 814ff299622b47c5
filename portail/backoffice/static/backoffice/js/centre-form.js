/**
 * Centre form: when companies/js/siret-lookup.js finds the SIRET, fill the letter's postal
 * address ("12 QUAI DE LA FOSSE" + newline + "44000 NANTES") unless the agent already typed one.
 * The letter name is filled by siret-lookup.js itself (data-siret-fill="name").
 */
const siret = document.querySelector("[data-siret-lookup]");
const address = document.querySelector("[data-centre-letter-address]");
if (siret && address) {
  siret.addEventListener("siret-lookup", (event) => {
    const { status, data } = event.detail || {};
    if (status !== "found" || !data) return;
    if (address.value.trim() && address.dataset.filledFromRegistry !== "true") return;
    const commune = [data.postcode, data.commune].filter(Boolean).join(" ");
    address.value = [data.address, commune].filter(Boolean).join("\n");
    address.dataset.filledFromRegistry = "true";
  });
  address.addEventListener("input", () => {
    address.dataset.filledFromRegistry = "false";
  });
}
