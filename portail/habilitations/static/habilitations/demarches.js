// "Ajouter" opens the "Ajouter une démarche" dialog (DSFR modal) instead of its page.
// Without JavaScript the link leads to the same choices on a plain page.
// The link becomes a DSFR modal button (aria-controls): DSFR then handles focus and closing.
for (const link of document.querySelectorAll("a[data-portail-modal]")) {
  const dialog = document.getElementById(link.dataset.portailModal);
  if (!dialog) continue;
  const button = document.createElement("button");
  button.type = "button";
  button.className = link.className;
  button.innerHTML = link.innerHTML;
  button.setAttribute("aria-controls", dialog.id);
  button.setAttribute("data-fr-opened", "false");
  link.replaceWith(button);
}
