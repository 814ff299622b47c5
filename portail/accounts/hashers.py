"""argon2id with the parameters stated in settings (OWASP: 19 MiB, 2 iterations, 1 lane).

Django's own Argon2PasswordHasher uses 100 MiB and 8 lanes: 112 ms and 100 MiB per login in
flight on our machines. Hashes made with other parameters are upgraded at the next login
(`must_update`), so changing the settings migrates every active account.
"""

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    algorithm = "argon2"  # same prefix as Django's: existing argon2 hashes stay readable

    @property
    def time_cost(self) -> int:  # type: ignore[override]  # a property over Django's attribute: read at each use
        return settings.ARGON2_TIME_COST

    @property
    def memory_cost(self) -> int:  # type: ignore[override]  # a property over Django's attribute: read at each use
        return settings.ARGON2_MEMORY_COST_KIB

    @property
    def parallelism(self) -> int:  # type: ignore[override]  # a property over Django's attribute: read at each use
        return settings.ARGON2_PARALLELISM
