"""The production storage of static files: whitenoise's, with each URL computed once per process.

Every page names a dozen static files (DSFR's styles, scripts, icons); the manifest storage
computes each URL again at every `{% static %}` (the hashed name, quoting, joining): about a
tenth of a light page's rendering. The manifest is read once at start-up and never changes while
the process runs, so neither do the URLs.
"""

from typing import Any

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage  # type: ignore[import-untyped]


class UrlsOnce:
    """Each static URL computed once per process (the manifest does not change while it runs)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name: str | None, force: bool = False) -> str:
        parent: Any = super()
        if force or name is None:
            return str(parent.url(name, force))
        found = self._urls.get(name)
        if found is None:
            found = self._urls[name] = str(parent.url(name))
        return found


class StaticFilesStorage(UrlsOnce, CompressedManifestStaticFilesStorage):  # type: ignore[misc]
    """Production: hashed names, gzip (and brotli when installed) copies next to each file."""


class UncompressedStaticFilesStorage(UrlsOnce, ManifestStaticFilesStorage):
    """The production-shaped run (STATIC_COMPRESS=0): nobody downloads the compressed copies,
    and compressing the DSFR's files would take minutes of each start."""
