"""Every table of both projects sits in DSFR's wrapper as a focusable, named region (#17 item 15):
a table wider than the screen scrolls sideways, and the keyboard must reach it (axe
`scrollable-region-focusable`). The one way to write a table is `{% scrollable_table %}`."""

import re
from pathlib import Path

import pytest
from django.template import engines

pytestmark = pytest.mark.django_db  # the cache every test clears is the database's

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted(
    path
    for package in ("portail", "ceres", "dsfr_layout")
    for path in (ROOT / package).rglob("templates/**/*.html")
)
OPEN = re.compile(r"{%\s*scrollable_table\s")
CLOSE = re.compile(r"{%\s*endscrollable_table\s*%}")


def tables_outside_the_wrapper(text: str) -> list[int]:
    """The line of every `<table` not between `{% scrollable_table %}` and its end."""
    depth, lines = 0, []
    tokens = re.finditer(r"{%\s*scrollable_table\s|{%\s*endscrollable_table\s*%}|<table\b", text)
    for token in tokens:
        if OPEN.match(token.group()):
            depth += 1
        elif CLOSE.match(token.group()):
            depth -= 1
        elif depth <= 0:
            lines.append(text.count("\n", 0, token.start()) + 1)
    return lines


def test_the_templates_are_found():
    assert len(TEMPLATES) > 50
    assert sum("<table" in path.read_text() for path in TEMPLATES) >= 8


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ('<div class="fr-table">\n<table></table></div>', [2]),
        ('{% scrollable_table "x" %}<table></table>{% endscrollable_table %}\n<table>', [2]),
        ('{% scrollable_table "x" %}\n<table>\n</table>\n{% endscrollable_table %}', []),
    ],
)
def test_the_scan_sees_a_bare_table(text, lines):
    assert tables_outside_the_wrapper(text) == lines


def test_every_table_is_in_its_keyboard_reachable_wrapper():
    bare = {
        str(path.relative_to(ROOT)): lines
        for path in TEMPLATES
        if (lines := tables_outside_the_wrapper(path.read_text()))
    }
    assert bare == {}, "tables outside {% scrollable_table %} (line numbers)"


def test_no_template_writes_the_dsfr_table_wrapper_by_hand():
    by_hand = [
        str(path.relative_to(ROOT))
        for path in TEMPLATES
        if 'class="fr-table' in path.read_text() and path.name != "scrollable_table.html"
    ]
    assert by_hand == []


def test_the_wrapper_is_a_focusable_named_region():
    template = engines["django"].from_string(
        '{% load dsfr_table %}{% scrollable_table label classes="fr-mb-3w" %}'
        "<table><caption>{{ label }}</caption></table>{% endscrollable_table %}"
    )
    html = template.render({"label": "Codes <d’activation>"})
    assert '<div class="fr-table fr-table--multiline fr-mb-3w">' in html
    assert (
        '<div class="fr-table__container" tabindex="0" role="region" '
        'aria-label="Codes &lt;d’activation&gt;">' in html
    )
    assert "<table><caption>Codes &lt;d’activation&gt;</caption></table>" in html
