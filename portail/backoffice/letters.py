"""The letter "Modalités d'accès à l'applicatif CERES", drawn with reportlab on A4.

One canvas for any number of letters, one page each: the text that is the same in every letter
is wrapped and drawn once, into two PDF forms (XObjects) that every page reuses; each page only
draws its recipient, SIRET and code. That keeps thousands of
letters at reportlab's own pace (about 1,000 pages per second) and in little memory.

The wording is the manual's, word for word. The place, the assistance hours and phone come from
settings (LETTER_PLACE, ASSISTANCE_HOURS, ASSISTANCE_PHONE), the portal address from
PORTAL_BASE_URL; the date is formatted by Django's French locale ("29 octobre 2018").
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from django.conf import settings
from django.utils import formats, timezone, translation
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

# Compressed streams stay binary (a PDF is a binary file): without this, reportlab encodes each
# in ASCII85, in pure Python when its C accelerator is absent — most of the time of a big batch.
rl_config.useA85 = 0

FONT = "Helvetica"
FONT_BOLD = "Helvetica-Bold"
SIZE = 11
LEADING = 15
MARGIN_LEFT = 25 * mm
MARGIN_RIGHT = 20 * mm
PAGE_WIDTH, PAGE_HEIGHT = A4
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
RECIPIENT_LEFT = 110 * mm  # the window of a DL envelope, right-hand side
SUBJECT = "Objet : Modalités d'accès à l'applicatif CERES"


@dataclass(frozen=True)
class LetterContent:
    name: str
    address: str
    siret: str
    code: str


def letter_place() -> str:
    return settings.LETTER_PLACE


def letter_date_line(day: date | None = None) -> str:
    """'Paris, le 29 octobre 2018' — the month from Django's French locale, not a list of ours."""
    day = day or timezone.localdate()
    with translation.override("fr"):
        return f"{letter_place()}, le {formats.date_format(day, 'j F Y')}"


def body_paragraphs() -> tuple[list[str], list[str]]:
    """The text before and after the SIRET / code lines, as in the manual."""
    before = [
        "Madame, Monsieur,",
        (
            "Vous avez un agrément pour organiser des sessions d'examen pour l'obtention d'un titre "
            "professionnel du ministère chargé de l'emploi."
        ),
        (
            "Pour vous connecter à CERES (CERTifications Emplois), l'applicatif qui centralise "
            "l'ensemble des processus métiers gérés par les différents acteurs de la politique du "
            "titre professionnel du ministère chargé de l'emploi, vous devez créer un compte "
            "personnel CERES sur le portail de services :"
        ),
    ]
    after = [
        (
            "En cas de difficultés pour vous créer un compte, ou si vous estimez que ni votre centre, "
            "ni votre siège n'êtes concernés par ce courrier, vous pouvez vous adresser au service "
            f"d'assistance téléphonique {settings.ASSISTANCE_HOURS} au {settings.ASSISTANCE_PHONE}."
        ),
    ]
    return before, after


class _Layout:
    """What every page shares, wrapped once."""

    def __init__(self, day: date | None):
        self.date_line = letter_date_line(day)
        before, after = body_paragraphs()
        self.before = [simpleSplit(p, FONT, SIZE, TEXT_WIDTH) for p in before]
        self.after = [simpleSplit(p, FONT, SIZE, TEXT_WIDTH) for p in after]
        self.portal_url = settings.PORTAL_BASE_URL
        self.intro = "Pour ce faire, vous devez vous munir des éléments suivants de votre dossier :"


def _draw_lines(canvas: Canvas, lines: list[str], x: float, y: float, font: str = FONT) -> float:
    text = canvas.beginText(x, y)
    text.setFont(font, SIZE, LEADING)
    for line in lines:
        text.textLine(line)
    canvas.drawText(text)
    return y - LEADING * len(lines)


def _draw_forms(canvas: Canvas, layout: _Layout) -> float:
    """Draw the text every letter shares once, as two PDF forms (XObjects) each page reuses.

    Returns the height where the SIRET and code lines go."""
    canvas.beginForm("letter-top")
    y = PAGE_HEIGHT - 95 * mm
    y = _draw_lines(canvas, [layout.date_line], RECIPIENT_LEFT, y) - LEADING
    y = _draw_lines(canvas, [SUBJECT], MARGIN_LEFT, y, FONT_BOLD) - LEADING
    for paragraph in layout.before:
        y = _draw_lines(canvas, paragraph, MARGIN_LEFT, y) - LEADING / 2
    y = _draw_lines(canvas, [layout.portal_url], MARGIN_LEFT + 10 * mm, y, FONT_BOLD) - LEADING / 2
    y = _draw_lines(canvas, [layout.intro], MARGIN_LEFT, y) - LEADING / 2
    canvas.endForm()
    codes_y = y
    canvas.beginForm("letter-bottom")
    y = codes_y - 2 * LEADING - LEADING / 2
    for paragraph in layout.after:
        y = _draw_lines(canvas, paragraph, MARGIN_LEFT, y) - LEADING / 2
    canvas.endForm()
    return codes_y


def _draw_page(canvas: Canvas, codes_y: float, letter: LetterContent) -> None:
    # Recipient block: "[Nom du centre] [Adresse du centre]".
    recipient = [letter.name]
    for line in letter.address.splitlines():
        if line.strip():
            recipient += simpleSplit(
                line.strip(), FONT, SIZE, PAGE_WIDTH - RECIPIENT_LEFT - MARGIN_RIGHT
            )
    _draw_lines(canvas, recipient, RECIPIENT_LEFT, PAGE_HEIGHT - 50 * mm)
    canvas.doForm("letter-top")
    _draw_lines(
        canvas,
        [f"SIRET : {letter.siret}", f"Code d'activation : {letter.code}"],
        MARGIN_LEFT + 10 * mm,
        codes_y,
        FONT_BOLD,
    )
    canvas.doForm("letter-bottom")
    canvas.showPage()


def render_letters(
    letters: Iterable[LetterContent], out: BinaryIO, *, day: date | None = None
) -> int:
    """Write one PDF, one A4 page per letter, to `out`. Returns the number of pages."""
    canvas = Canvas(out, pagesize=A4, pageCompression=1, invariant=False)
    canvas.setTitle("Modalités d'accès à l'applicatif CERES")
    canvas.setAuthor(settings.SERVICE_NAME)
    canvas.setCreator(settings.SERVICE_NAME)
    codes_y = _draw_forms(canvas, _Layout(day))
    pages = 0
    for letter in letters:
        _draw_page(canvas, codes_y, letter)
        pages += 1
    canvas.save()
    return pages
