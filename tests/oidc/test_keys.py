"""The signing key: from the environment (PEM or file), or generated once for development."""

import stat

import pytest
from jwcrypto import jwk

from portail.oidc import keys

pytestmark = pytest.mark.django_db  # the autouse cache fixture uses the database cache


def test_development_key_is_generated_once_private_and_valid(tmp_path):
    first = keys.development_private_key(tmp_path)
    second = keys.development_private_key(tmp_path)
    assert first == second
    path = tmp_path / keys.DEV_KEY_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [keys.DEV_KEY_NAME]
    assert jwk.JWK.from_pem(first.encode()).export_public(as_dict=True)["kty"] == "RSA"


def test_key_from_the_environment_pem_or_file(tmp_path, monkeypatch):
    pem = keys.generate_private_key()
    monkeypatch.setenv("OIDC_RSA_PRIVATE_KEY", pem)
    assert keys.private_key_from_env().strip() == pem.strip()
    monkeypatch.delenv("OIDC_RSA_PRIVATE_KEY")
    path = tmp_path / "k.pem"
    path.write_text(pem)
    monkeypatch.setenv("OIDC_RSA_PRIVATE_KEY_FILE", str(path))
    assert keys.private_key_from_env() == pem
    monkeypatch.delenv("OIDC_RSA_PRIVATE_KEY_FILE")
    assert keys.private_key_from_env() == ""
    monkeypatch.setenv("OIDC_RSA_PRIVATE_KEYS_INACTIVE_FILES", f"{path}, ")
    assert keys.inactive_keys_from_env() == [pem]
