"""A list's pagination on the management page, written in Python: what the template
`_pagination.html` rendered (kept in the test as its reference), byte for byte, its whitespace
included.

The page included that template three times (the people, the delegations, the messages), each a
context pushed and a dozen variables resolved; the people's is on every page of a large company.
`tests/habilitations/test_pagination.py` renders the template beside it (one page, the first,
a middle and the last of many, addresses and a label to escape).
"""

from html import escape
from typing import Any

from django.utils.safestring import SafeString

_PREVIOUS = "fr-pagination__link fr-pagination__link--prev fr-pagination__link--lg-label"
_NEXT = "fr-pagination__link fr-pagination__link--next fr-pagination__link--lg-label"
CURRENT = ' aria-current="page"'


def _end(classes: str, url: str, text: str) -> str:
    """The previous or next link, or its disabled form on the first or last page."""
    if url:
        return f'<a class="{classes}" href="{escape(url)}">{text}</a>'
    return f'<a class="{classes}" aria-disabled="true" role="link">{text}</a>'


def nav(pager: dict[str, Any], label: str) -> SafeString:
    """What `{% include "habilitations/_pagination.html" with pager=pager label=label %}`
    rendered; `pager` from `management_page.page_links`."""
    if pager["page"].paginator.num_pages <= 1:
        return SafeString("\n\n")
    links = "".join(
        f'\n        <li><a class="fr-pagination__link" href="{escape(url)}" title="Page {number}"'
        f"{CURRENT if current else ''}>{number}</a></li>\n      "
        for number, url, current in pager["links"]
    )
    return SafeString(
        "\n\n"
        f'  <nav role="navigation" class="fr-pagination fr-mt-2w" aria-label="{escape(label)}">\n'
        '    <ul class="fr-pagination__list">\n'
        f"      <li>{_end(_PREVIOUS, pager['previous'], 'Page précédente')}</li>\n"
        f"      {links}\n"
        f"      <li>{_end(_NEXT, pager['next'], 'Page suivante')}</li>\n"
        "    </ul>\n"
        "  </nav>\n"
        "\n"
    )
