"""The RSA key that signs ID tokens (RS256).

Production reads it from the environment: `OIDC_RSA_PRIVATE_KEY` (the PEM itself) or
`OIDC_RSA_PRIVATE_KEY_FILE` (a path to it); a key being retired goes to
`OIDC_RSA_PRIVATE_KEYS_INACTIVE_FILES` so tokens it signed still verify (docs/oidc.md, "Key
rotation"). Development and tests use a key generated once and cached under var/.

Imported by the settings modules: no Django import here.
"""

import contextlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DEV_KEY_NAME = "oidc-dev-signing-key.pem"


def private_key_from_env() -> str:
    """The PEM given by the environment, or "" when none is."""
    pem = os.environ.get("OIDC_RSA_PRIVATE_KEY", "").strip()
    if pem:
        return pem + "\n"
    path = os.environ.get("OIDC_RSA_PRIVATE_KEY_FILE", "").strip()
    if path:
        return Path(path).read_text()
    return ""


def inactive_keys_from_env() -> list[str]:
    """Retired keys still published in the JWKS (comma-separated file paths)."""
    paths = [
        p.strip() for p in os.environ.get("OIDC_RSA_PRIVATE_KEYS_INACTIVE_FILES", "").split(",")
    ]
    return [Path(p).read_text() for p in paths if p]


def generate_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def development_private_key(var_dir: Path) -> str:
    """A key generated at first use and kept in var/ (development and tests only)."""
    path = Path(var_dir) / DEV_KEY_NAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(generate_private_key())
        tmp.chmod(0o600)
        # First one wins, atomically: processes starting together all read the same whole key.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        tmp.unlink()
    return path.read_text()
