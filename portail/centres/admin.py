"""Django admin (technical administrators): read-only views of regions and centres.

Centres and their sites liés change only through the back-office flows (audited).
"""

from django.contrib import admin

from portail.centres.models import Centre, Region
from portail.core.admin import ReadOnlyAdmin


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ("code", "name")


@admin.register(Centre)
class CentreAdmin(ReadOnlyAdmin):
    list_display = ("letter_name", "establishment", "region", "closed_at")
    list_filter = ("region",)
    search_fields = ("letter_name", "establishment__siret")
