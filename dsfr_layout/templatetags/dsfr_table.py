"""`{% scrollable_table "label" %}<table>…</table>{% endscrollable_table %}`: a table in DSFR's
wrapper, as a region the keyboard can reach; cells wrap (`fr-table--multiline`).

A table wider than the screen scrolls sideways inside `.fr-table__container`; without a tab stop
a keyboard user cannot scroll it (axe `scrollable-region-focusable`). The container is therefore
focusable (`tabindex="0"`) and named (`role="region"`, `aria-label`). Every table of both projects
goes through this tag (tests/test_tables.py checks the templates).
"""

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_block_tag
def scrollable_table(content: str, label: str, classes: str = "") -> SafeString:
    return render_to_string(
        "dsfr_layout/scrollable_table.html",
        {"content": content, "label": label, "classes": classes},
    )
