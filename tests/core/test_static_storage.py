"""The production static storage answers whitenoise's URLs, each computed once per process."""

import json

import pytest
from whitenoise.storage import CompressedManifestStaticFilesStorage

from portail.core.static_storage import StaticFilesStorage

pytestmark = pytest.mark.django_db  # the suite clears the (database) cache around each test


def storages(tmp_path):
    manifest = {"paths": {"dsfr/dsfr.css": "dsfr/dsfr.0123abcd.css"}, "version": "1.1"}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    options = {"location": str(tmp_path), "base_url": "/static/"}
    return StaticFilesStorage(**options), CompressedManifestStaticFilesStorage(**options)


def test_the_urls_are_whitenoises(tmp_path, settings):
    settings.DEBUG = False
    ours, theirs = storages(tmp_path)
    for name in ("dsfr/dsfr.css", "dsfr/dsfr.css", "dsfr/dsfr.css?v=1#top"):
        assert ours.url(name) == theirs.url(name)
    assert ours.url("dsfr/dsfr.css") == "/static/dsfr/dsfr.0123abcd.css"


def test_each_url_is_computed_once(tmp_path, settings):
    settings.DEBUG = False
    ours, _theirs = storages(tmp_path)
    first = ours.url("dsfr/dsfr.css")
    ours.hashed_files["dsfr/dsfr.css"] = "dsfr/dsfr.changed.css"  # the manifest never changes
    assert ours.url("dsfr/dsfr.css") == first
    assert ours.url("dsfr/dsfr.css", force=True) == "/static/dsfr/dsfr.changed.css"
