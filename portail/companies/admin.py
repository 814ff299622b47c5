from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from portail.companies.models import Establishment, RegistryRecord

# The change pages keep the order of a registry extract (the abstract Place's columns would
# otherwise come first).
_IDENTITY = ("siret", "siren", "name")
_PLACE = ("address", "postcode", "commune", "is_head_office", "is_active")


@admin.register(Establishment)
class EstablishmentAdmin(admin.ModelAdmin):
    list_display = (
        "siret",
        "name",
        "postcode",
        "commune",
        "is_head_office",
        "is_active",
        "source",
        "verified",
        "refreshed_at",
    )
    list_filter = ("source", "verified", "is_active", "is_head_office")
    search_fields = ("siret", "siren", "name", "commune")
    readonly_fields = ("refreshed_at",)
    fields = (*_IDENTITY, *_PLACE, "source", "verified", "refreshed_at")


@admin.register(RegistryRecord)
class RegistryRecordAdmin(admin.ModelAdmin):
    """The registry's cached answers: read-only; delete a row to force asking again."""

    list_display = ("siret", "name", "commune", "is_active", "source", "fetched_at")
    list_filter = ("source", "is_active")
    search_fields = ("siret", "siren", "name")
    fields = (*_IDENTITY, *_PLACE, "source", "fetched_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
