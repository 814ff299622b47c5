"""The management page's tables of people (one per role on the page), written in Python.

They were the template's largest part: twenty rows of a dozen variables, filters and tags each,
then `{% scrollable_table %}` around each role. `tables(page_groups)` returns what manage.html's
loop rendered, byte for byte (its whitespace included); `tests/habilitations/test_people_table.py`
renders the replaced template beside it on varied rows (every origin, granted by someone or not,
names to escape), given model instances as it was and the plain rows the page now reads
(`people_rows.PersonRow`). The markup is the template's: one DSFR table on both widths, each row a card
below 48em (habilitations.css, `.hab-stack`), the column headers kept for screen readers.
"""

from collections.abc import Iterable
from datetime import datetime
from html import escape
from typing import Any

from django.utils import timezone
from django.utils.safestring import SafeString

from portail.habilitations.people_rows import PersonRow

EMPTY = "\n      <p>Aucune personne ne correspond à ces critères.</p>\n    "
HEADS = (
    '<tr class="hab-stack__heads"><th scope="col">Nom</th><th scope="col">Adresse électronique'
    '</th><th scope="col">Établissement</th><th scope="col">Depuis</th><th scope="col">Actions'
    "</th></tr>"
)


def day(value: datetime) -> str:
    """`{{ value|date:"d/m/Y" }}`: the day in the current time zone."""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{local.day:02d}/{local.month:02d}/{local.year:04d}"


def full_name(user: Any) -> str:
    """`{{ user.get_full_name }}`, escaped."""
    name: str = user.get_full_name()
    return escape(name)


def _granted(habilitation: PersonRow) -> str:
    granted_by = habilitation.granted_by
    if granted_by is not None:
        return f"par {full_name(granted_by) or escape(granted_by.email)}"
    origin = escape(str(habilitation.get_origin_display()))
    return f'<span class="hab-narrow">(</span>{origin}<span class="hab-narrow">)</span>'


def row(habilitation: PersonRow) -> str:
    """One person's row (`habilitation` with its user, establishment, who granted it, its role
    and its two addresses, set by management_page._row_urls, one reverse() per page)."""
    user, establishment = habilitation.user, habilitation.establishment
    who = escape(str(user))
    change_role_url, revoke_url = habilitation.change_role_url, habilitation.revoke_url
    return (
        "\n              <tr>"
        f'\n                <td class="hab-stack__title">{full_name(user) or "—"}</td>'
        f"\n                <td>{escape(user.email)}</td>"
        f'\n                <td>{escape(establishment.siret)}<br class="hab-wide">'
        '<span class="hab-narrow"> — </span>'
        f'<span class="fr-text--sm">{escape(establishment.name)}</span></td>'
        f'\n                <td><span class="hab-narrow">Depuis </span>le '
        f'{day(habilitation.granted_at)}<br class="hab-wide"><span class="hab-narrow"> </span>'
        f'<span class="fr-text--sm">{_granted(habilitation)}</span></td>'
        '\n                <td class="hab-stack__actions">'
        '\n                  <a class="fr-link fr-text--sm" '
        f'href="{escape(change_role_url)}">Changer le rôle'
        f'<span class="fr-sr-only"> de {who}</span></a><br class="hab-wide">'
        '\n                  <a class="fr-link fr-text--sm" '
        f'href="{escape(revoke_url)}">Révoquer'
        f'<span class="fr-sr-only"> {who} ({escape(habilitation.role.label)})</span></a>'
        "\n                </td>"
        "\n              </tr>\n            "
    )


def scrollable(label: str, classes: str, content: str) -> str:
    """What `{% scrollable_table label classes=classes %}content{% endscrollable_table %}`
    renders (dsfr_layout/scrollable_table.html), `label` and `classes` not yet escaped."""
    shown_classes = f" {escape(classes)}" if classes else ""
    return (
        f'<div class="fr-table fr-table--multiline{shown_classes}">\n'
        '  <div class="fr-table__wrapper">\n'
        '    <div class="fr-table__container" tabindex="0" role="region" '
        f'aria-label="{escape(label)}">\n'
        '      <div class="fr-table__content">\n'
        f"        {content}\n"
        "      </div>\n"
        "    </div>\n"
        "  </div>\n"
        "</div>\n"
    )


def table(group: dict[str, Any]) -> str:
    """One role's table: its title, the column headers and its rows on the page."""
    role_label, count_label = group["role"].label, group["label"]
    title = f"{escape(role_label)} — {escape(count_label)}"
    content = (
        "\n        <table>"
        f"\n          <caption>{title}</caption>"
        "\n          <thead>"
        f'\n            <tr><th scope="col" colspan="5"><span class="hab-group-title">'
        f'{escape(role_label)}</span> <span class="fr-badge fr-badge--sm fr-badge--info '
        f'fr-badge--no-icon">{escape(count_label)}</span></th></tr>'
        f"\n            {HEADS}"
        "\n          </thead>"
        f"\n          <tbody>\n            {''.join(row(h) for h in group['rows'])}"
        "\n          </tbody>"
        "\n        </table>\n      "
    )
    label = f"{role_label} — {count_label}"
    return scrollable(label, "fr-table--no-caption fr-mb-3w hab-stack", content)


def tables(page_groups: Iterable[dict[str, Any]]) -> SafeString:
    """Every role's table of the page of people, or the sentence saying nobody matched."""
    parts = [f"\n      \n      {table(group)}\n    " for group in page_groups]
    return SafeString("".join(parts) if parts else EMPTY)
