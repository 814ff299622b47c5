"""Where the live SIRET lookup is asked: the forms of other apps put it on their SIRET field."""

from django.urls import reverse


def lookup_url_template() -> str:
    """'/entreprises/siret/{siret}/': the value of `data-siret-lookup-url` (see siret-lookup.js)."""
    return reverse("companies:siret_lookup", args=["{siret}"]).replace("%7Bsiret%7D", "{siret}")
