from django.apps import AppConfig
from django.middleware import csrf

from ceres.web.random_strings import random_string


class WebConfig(AppConfig):
    name = "ceres.web"
    label = "ceres_web"
    verbose_name = "CERES"

    def ready(self) -> None:
        # The CSRF middleware's secrets and masks (Django's get_random_string of its length and
        # alphabet: one `secrets.choice` a character, 150 calls a string) drawn by
        # ceres.web.random_strings: the same strings in a few calls; Django's masking, checks and
        # cookie unchanged.
        csrf._get_new_csrf_string = new_csrf_string


def new_csrf_string() -> str:
    return random_string(csrf.CSRF_SECRET_LENGTH, csrf.CSRF_ALLOWED_CHARS)
