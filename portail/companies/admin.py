from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from portail.companies.models import Establishment, EstablishmentClosure, RegistryRecord

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


@admin.register(EstablishmentClosure)
class EstablishmentClosureAdmin(admin.ModelAdmin):
    """Establishments the Sirene import found closed, and when the back-office handled them:
    read-only (written by the import, handled by the chore `establishment_closures`)."""

    list_display = ("establishment", "detected_at", "handled_at")
    list_filter = ("handled_at",)
    search_fields = ("establishment__siret", "establishment__name")
    list_select_related = ("establishment",)
    fields = ("establishment", "detected_at", "handled_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
