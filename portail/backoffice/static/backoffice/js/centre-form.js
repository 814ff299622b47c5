/**
 * Centre form: when companies/js/siret-lookup.js finds the SIRET, fill the letter's postal
 * address ("12 QUAI DE LA FOSSE" + newline + "44000 NANTES") unless the agent already typed one,
 * and preselect the region (DREETS) of the establishment's département unless the agent chose
 * one. The letter name is filled by siret-lookup.js itself (data-siret-fill="name").
 */
const siret = document.querySelector("[data-siret-lookup]");
const address = document.querySelector("[data-centre-letter-address]");
const region = document.querySelector("[data-centre-region]");
const regionData = document.getElementById("centre-region-by-departement");
const regionByDepartement = regionData ? JSON.parse(regionData.textContent) : {};

/** '44000' → '44', '97600' → '976', '20090' → '2A', '20200' → '2B' (portail/centres/departements.py). */
function departementOf(postcode) {
  const code = (postcode || "").trim();
  if (!/^\d{5}$/.test(code) || code.startsWith("00")) return null;
  if (code.startsWith("97") || code.startsWith("98")) return code.slice(0, 3);
  if (code.startsWith("20")) return Number(code) >= 20200 ? "2B" : "2A";
  return code.slice(0, 2);
}

if (siret && address) {
  siret.addEventListener("siret-lookup", (event) => {
    const { status, data } = event.detail || {};
    if (status !== "found" || !data) return;
    if (!address.value.trim() || address.dataset.filledFromRegistry === "true") {
      const commune = [data.postcode, data.commune].filter(Boolean).join(" ");
      address.value = [data.address, commune].filter(Boolean).join("\n");
      address.dataset.filledFromRegistry = "true";
    }
    const pk = regionByDepartement[departementOf(data.postcode)];
    if (region && pk && (!region.value || region.dataset.filledFromRegistry === "true")) {
      region.value = String(pk);
      region.dataset.filledFromRegistry = "true";
    }
  });
  address.addEventListener("input", () => {
    address.dataset.filledFromRegistry = "false";
  });
  if (region) {
    region.addEventListener("change", () => {
      region.dataset.filledFromRegistry = "false";
    });
  }
}
