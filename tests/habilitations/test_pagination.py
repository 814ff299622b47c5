"""The management page's paginations in Python (`pagination.nav`) against the template they
replaced (`_pagination.html`, included three times by manage.html), byte for byte: one page, the
first, a middle and the last of many, other parameters kept in the addresses (to escape)."""

import pytest
from django.core.paginator import Paginator
from django.http import QueryDict
from django.template import engines

from portail.habilitations import pagination
from portail.habilitations.management_page import EMAIL_PAGES, PEOPLE_PAGES, page_links

pytestmark = pytest.mark.django_db  # the cache every test clears is the database's

# _pagination.html as it was, included `with pager=… label="…"` (a literal label: not escaped).
REPLACED = '{# A list\'s pagination. Context: pager (from views._page_links), label (aria-label). #}\n{% if pager.page.paginator.num_pages > 1 %}\n  <nav role="navigation" class="fr-pagination fr-mt-2w" aria-label="{{ label }}">\n    <ul class="fr-pagination__list">\n      <li>{% if pager.previous %}<a class="fr-pagination__link fr-pagination__link--prev fr-pagination__link--lg-label" href="{{ pager.previous }}">Page précédente</a>{% else %}<a class="fr-pagination__link fr-pagination__link--prev fr-pagination__link--lg-label" aria-disabled="true" role="link">Page précédente</a>{% endif %}</li>\n      {% for number, url, current in pager.links %}\n        <li><a class="fr-pagination__link" href="{{ url }}" title="Page {{ number }}"{% if current %} aria-current="page"{% endif %}>{{ number }}</a></li>\n      {% endfor %}\n      <li>{% if pager.next %}<a class="fr-pagination__link fr-pagination__link--next fr-pagination__link--lg-label" href="{{ pager.next }}">Page suivante</a>{% else %}<a class="fr-pagination__link fr-pagination__link--next fr-pagination__link--lg-label" aria-disabled="true" role="link">Page suivante</a>{% endif %}</li>\n    </ul>\n  </nav>\n{% endif %}\n'

CASES = {
    "one page": (5, "1", "", PEOPLE_PAGES),
    "the first of many": (5000, "1", "", PEOPLE_PAGES),
    "a middle one, with a search": (5000, "7", "q=O'Brien & <fils>&etablissement=1", EMAIL_PAGES),
    "the last": (5000, "250", "onglet=messages", EMAIL_PAGES),
    "the second of two": (21, "2", "", PEOPLE_PAGES),
}


@pytest.mark.parametrize("case", CASES)
def test_the_navigation_is_the_template_s_byte_for_byte(case):
    count, number, query, label = CASES[case]
    page = Paginator(list(range(count)), 20).get_page(number)
    pager = page_links(QueryDict(query), page, "page", label)
    template = engines["django"].from_string(REPLACED.replace("{{ label }}", label))
    assert pagination.nav(pager, label) == template.render({"pager": pager})
    assert pager["nav"] == pagination.nav(pager, label)
