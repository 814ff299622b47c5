"""The middleware people's pages need and the machines' endpoints do not.

The démarches' servers call the provider's token, userinfo, introspection and key endpoints, and
the load balancer and the scraper call /healthz and /metrics, far more often than people open
pages: none of those requests has a language to choose, messages to show, a second factor to
check or a session to keep alive. Under `settings.MACHINE_PATHS` these layers pass the request on
untouched. Django's session, authentication, login-required and CSRF layers still run for every
request (they are lazy: a machine's request, which brings no cookie, reads no session row).

`LocaleMiddleware` is also Django's made short for a portal with one language: the language is
that one, whatever the request says (Django's own answer then), without parsing the path and the
Accept-Language header at every request; with several languages or `i18n_patterns`, Django's.
"""

from functools import cache

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.contrib.messages import middleware as messages_middleware
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware import locale
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django_otp import middleware as otp_middleware

from portail.core.middleware import GetResponse


@cache
def _machine_paths() -> tuple[str, ...]:
    return tuple(settings.MACHINE_PATHS)


def is_machine_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(_machine_paths())


class PeopleOnly:
    """Put first among a middleware's bases: its request passes untouched on machines' paths.
    (Subclasses, not wrappers: Django's checks look for its own classes in MIDDLEWARE.)"""

    def __init__(self, get_response: GetResponse) -> None:
        for hook in ("process_view", "process_exception", "process_template_response"):
            # Django registers these hooks itself: they would still run on a machine's request.
            if hasattr(self, hook):
                raise ImproperlyConfigured(f"{type(self).__qualname__} has {hook}")
        super().__init__(get_response)  # type: ignore[call-arg]

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if is_machine_request(request):
            passed: HttpResponseBase = self.get_response(request)  # type: ignore[attr-defined]
            return passed
        response: HttpResponseBase = super().__call__(request)  # type: ignore[misc]
        return response


class OneLanguageLocaleMiddleware(locale.LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        language = _only_language()
        if language is None:
            super().process_request(request)
            return
        translation.activate(language)
        request.LANGUAGE_CODE = language

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        language = _only_language()
        if language is None:
            return super().process_response(request, response)
        # Django's headers, as its middleware writes them without language prefixes.
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", language)
        return response


@cache
def _only_language() -> str | None:
    """The portal's one language, or None when Django's middleware has a choice to make."""
    languages = [code for code, _name in settings.LANGUAGES]
    if languages != [settings.LANGUAGE_CODE]:
        return None
    if any(is_language_prefix_patterns_used(settings.ROOT_URLCONF)):
        return None
    return languages[0]


def _forget(*, setting: str, **kwargs: object) -> None:
    if setting in ("LANGUAGES", "LANGUAGE_CODE", "ROOT_URLCONF"):
        _only_language.cache_clear()
    if setting == "MACHINE_PATHS":
        _machine_paths.cache_clear()


setting_changed.connect(_forget, dispatch_uid="portail.core.people_middleware")


class LocaleMiddleware(PeopleOnly, OneLanguageLocaleMiddleware):
    pass


class OTPMiddleware(PeopleOnly, otp_middleware.OTPMiddleware):  # type: ignore[misc]
    pass


class MessageMiddleware(PeopleOnly, messages_middleware.MessageMiddleware):
    pass
