"""The production storage of static files: whitenoise's, with each URL computed once per process.

Every page names a dozen static files (DSFR's styles, scripts, icons); the manifest storage
computes each URL again at every `{% static %}` (the hashed name, quoting, joining): about a
tenth of a light page's rendering. The manifest is read once at start-up and never changes while
the process runs, so neither do the URLs.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage  # type: ignore[import-untyped]


class StaticFilesStorage(CompressedManifestStaticFilesStorage):  # type: ignore[misc]
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name: str | None, force: bool = False) -> str:
        if force or name is None:
            return str(super().url(name, force))
        found = self._urls.get(name)
        if found is None:
            found = self._urls[name] = str(super().url(name))
        return found
