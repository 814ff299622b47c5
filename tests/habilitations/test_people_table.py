"""The management page's tables of people in Python (`people_table`) against the template they
replaced, byte for byte, on varied rows: every origin, granted by someone (with or without a
name) or not, names and establishments to escape, long names, a day that is another in Paris
than in UTC, several roles, and nobody."""

from datetime import UTC, datetime

import pytest
from django.template import engines

from portail.accounts.models import User
from portail.companies.models import Establishment
from portail.demarches.models import Role
from portail.habilitations import people_rows, people_table
from portail.habilitations.models import Habilitation

pytestmark = pytest.mark.django_db  # the cache every test clears is the database's

# manage.html's loop as it was before `people_table` (its first line's indent is the page's).
REPLACED = """{% load dsfr_table %}{% for group in page_groups %}
      {# One table on both widths: below DSFR's md breakpoint each row shows as a card (habilitations.css, .hab-stack); the column headers stay for screen readers. #}
      {% scrollable_table group.role.label|add:" — "|add:group.label classes="fr-table--no-caption fr-mb-3w hab-stack" %}
        <table>
          <caption>{{ group.role.label }} — {{ group.label }}</caption>
          <thead>
            <tr><th scope="col" colspan="5"><span class="hab-group-title">{{ group.role.label }}</span> <span class="fr-badge fr-badge--sm fr-badge--info fr-badge--no-icon">{{ group.label }}</span></th></tr>
            <tr class="hab-stack__heads"><th scope="col">Nom</th><th scope="col">Adresse électronique</th><th scope="col">Établissement</th><th scope="col">Depuis</th><th scope="col">Actions</th></tr>
          </thead>
          <tbody>
            {% for habilitation in group.rows %}
              <tr>
                <td class="hab-stack__title">{{ habilitation.user.get_full_name|default:"—" }}</td>
                <td>{{ habilitation.user.email }}</td>
                <td>{{ habilitation.establishment.siret }}<br class="hab-wide"><span class="hab-narrow"> — </span><span class="fr-text--sm">{{ habilitation.establishment.name }}</span></td>
                <td><span class="hab-narrow">Depuis </span>le {{ habilitation.granted_at|date:"d/m/Y" }}<br class="hab-wide"><span class="hab-narrow"> </span><span class="fr-text--sm">{% if habilitation.granted_by %}par {{ habilitation.granted_by.get_full_name|default:habilitation.granted_by.email }}{% else %}<span class="hab-narrow">(</span>{{ habilitation.get_origin_display }}<span class="hab-narrow">)</span>{% endif %}</span></td>
                <td class="hab-stack__actions">
                  <a class="fr-link fr-text--sm" href="{{ habilitation.change_role_url }}">Changer le rôle<span class="fr-sr-only"> de {{ habilitation.user }}</span></a><br class="hab-wide">
                  <a class="fr-link fr-text--sm" href="{{ habilitation.revoke_url }}">Révoquer<span class="fr-sr-only"> {{ habilitation.user }} ({{ habilitation.role.label }})</span></a>
                </td>
              </tr>
            {% endfor %}
          </tbody>
        </table>
      {% endscrollable_table %}
    {% empty %}
      <p>Aucune personne ne correspond à ces critères.</p>
    {% endfor %}"""

NAMES = [
    ("Claire", "Centre", "claire@cfi.fr"),
    ("", "", "sans.nom@cfi.fr"),
    ("<script>alert(1)</script>", 'O\'Brien & "fils"', "a&b<c>@x.fr"),
    ("Marie-Éléonore-Joséphine-Apolline", "de La Tour d’Auvergne-Lauraguais " * 3, "m@x.fr"),
    ("  ", "Seul", "seul@x.fr"),
]


def user(first: str, last: str, email: str) -> User:
    return User(first_name=first, last_name=last, email=email)


def rows(role: Role, count: int, shift: int = 0) -> list[Habilitation]:
    establishment = Establishment(siret="12345678900017", name='CFI <Atlantique> & "fils"')
    granted_by = [None, user("Guy", "Gestion", "guy@cfi.fr"), user("", "", "sans@nom.fr")]
    origins = list(Habilitation.Origin)
    made = []
    for n in range(count):
        habilitation = Habilitation(
            pk=100 + n + shift,
            role=role,
            origin=origins[(n + shift) % len(origins)],
            granted_at=datetime(2025, 12, 31, 23, 30 - n, tzinfo=UTC),  # 1 January in Paris
            user=user(*NAMES[(n + shift) % len(NAMES)]),
            establishment=establishment,
            granted_by=granted_by[(n + shift) % len(granted_by)],
        )
        habilitation.change_role_url = f"/habilitations/ceres/{habilitation.pk}/role/?a=1&b=2"
        habilitation.revoke_url = f"/habilitations/ceres/{habilitation.pk}/revoquer/"
        made.append(habilitation)
    return made


CENTRE = Role(pk=1, label="Centre agréé", order=10)
ODD = Role(pk=2, label='Gestionnaire <CENTRES> & "co"', order=20)
CASES = {
    "nobody": [],
    "one role": [{"role": CENTRE, "label": "1 Personne", "rows": rows(CENTRE, 1)}],
    "two roles": [
        {"role": CENTRE, "label": "5000 Personnes", "rows": rows(CENTRE, 15)},
        {"role": ODD, "label": "12 Personnes", "rows": rows(ODD, 5, shift=3)},
    ],
    "a numeric label": [{"role": Role(pk=3, label="12"), "label": "3", "rows": rows(CENTRE, 2)}],
}


@pytest.mark.parametrize("case", CASES)
def test_the_tables_are_the_templates_byte_for_byte(case):
    page_groups = CASES[case]
    expected = engines["django"].from_string(REPLACED).render({"page_groups": page_groups})
    assert people_table.tables(page_groups) == expected


def test_every_origin_and_the_escaping_are_met():
    html = people_table.tables(CASES["two roles"])
    for origin in Habilitation.Origin:
        assert f"{origin.label}<" in html
    assert "&lt;script&gt;" in html
    assert "<script>" not in html
    assert "O&#x27;Brien &amp; &quot;fils&quot;" in html
    assert "01/01/2026" in html
    assert "31/12/2025" not in html


def plain(habilitation: Habilitation) -> people_rows.PersonRow:
    """The row `people_rows.page` makes of the same values (no model instance)."""

    def person(user: User | None) -> people_rows.Person | None:
        return (
            None
            if user is None
            else people_rows.Person(user.email, user.first_name, user.last_name)
        )

    made = people_rows.PersonRow(
        pk=habilitation.pk,
        user_id=0,
        role_id=habilitation.role.pk,
        origin=habilitation.origin,
        granted_at=habilitation.granted_at,
        ends_at=habilitation.ends_at,
        user=person(habilitation.user),
        establishment=people_rows.Place(
            habilitation.establishment.siret, habilitation.establishment.name
        ),
        granted_by=person(habilitation.granted_by),
        role=habilitation.role,
    )
    made.change_role_url = habilitation.change_role_url
    made.revoke_url = habilitation.revoke_url
    return made


@pytest.mark.parametrize("case", CASES)
def test_the_plain_rows_write_what_the_template_wrote_of_the_models(case):
    # The page's rows are plain values since decision 0014's sixth session: the same bytes as
    # the template given model instances (the User model's full name and str()).
    page_groups = CASES[case]
    expected = engines["django"].from_string(REPLACED).render({"page_groups": page_groups})
    plain_groups = [group | {"rows": [plain(h) for h in group["rows"]]} for group in page_groups]
    assert people_table.tables(plain_groups) == expected
