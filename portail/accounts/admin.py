"""Technical administration of accounts. Changes of state go through the flows (portail.accounts
.flows): the admin shows accounts and one-use links, it edits nothing that needs an audit event."""

from django.contrib import admin
from django.http import HttpRequest

from portail.accounts.models import AccountToken, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # no django-stubs-ext at run time
    list_display = (
        "email",
        "last_name",
        "first_name",
        "account_type",
        "declared_siret",
        "is_active",
        "email_verified_at",
    )
    list_filter = ("account_type", "is_active", "is_staff")
    search_fields = ("email", "last_name", "first_name", "declared_siret")
    readonly_fields = ("public_id", "password", "last_login", "date_joined", "email_verified_at")
    exclude = ("user_permissions",)
    ordering = ("email",)


@admin.register(AccountToken)
class AccountTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "purpose", "created_at", "expires_at", "used_at")
    list_filter = ("purpose",)
    readonly_fields = (
        "user",
        "purpose",
        "token_hash",
        "new_email",
        "created_at",
        "expires_at",
        "used_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
