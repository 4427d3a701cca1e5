"""Secrets kept on disk: the development SECRET_KEY and the OIDC signing keys.

Nothing here imports Django models, so `config.settings` can use it while it loads.
A key directory holds `active.pem` (signs new ID tokens) and `retired-*.pem` (old keys
whose public halves stay in the JWKS until every token they signed has expired).
"""

import contextlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ACTIVE_KEY = "active.pem"
RETIRED_PREFIX = "retired-"
RSA_KEY_BITS = 3072


@dataclass(frozen=True)
class SigningKeys:
    """The active private key and the retired ones still published in the JWKS."""

    active: str
    retired: tuple[str, ...] = ()


def _write_private(path: Path, data: str) -> None:
    """Write `data` to a new file readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(data)


def dev_secret_key(var_dir: Path) -> str:
    """Return the development SECRET_KEY, generating it once into `var_dir`."""
    path = var_dir / "secret_key"
    if not path.exists():
        # Another process may win the race; then read its key.
        with contextlib.suppress(FileExistsError):
            _write_private(path, secrets.token_urlsafe(50))
    return path.read_text().strip()


def generate_rsa_pem() -> str:
    """A new RSA private key in PKCS#8 PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def load_key_dir(key_dir: Path, *, create: bool) -> SigningKeys | None:
    """Read the signing keys of `key_dir`; with `create`, make the active key first."""
    active = key_dir / ACTIVE_KEY
    if not active.exists():
        if not create:
            return None
        with contextlib.suppress(FileExistsError):
            _write_private(active, generate_rsa_pem())
    retired = sorted(key_dir.glob(f"{RETIRED_PREFIX}*.pem"), reverse=True)
    return SigningKeys(
        active=active.read_text(), retired=tuple(p.read_text() for p in retired)
    )


def rotate_key_dir(key_dir: Path, *, keep_retired_seconds: int) -> Path:
    """Retire the active key, make a new one, and drop retired keys past their use.

    A retired key is kept while a token it signed may still be valid: for
    `keep_retired_seconds` after the moment it was retired (its file's mtime).
    Returns the path of the newly retired key.
    """
    key_dir.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in key_dir.glob(f"{RETIRED_PREFIX}*.pem"):
        if now - old.stat().st_mtime > keep_retired_seconds:
            old.unlink()
    active = key_dir / ACTIVE_KEY
    retired = key_dir / f"{RETIRED_PREFIX}{time.strftime('%Y%m%dT%H%M%S')}.pem"
    if active.exists():
        active.rename(retired)
        os.utime(retired, (now, now))
    _write_private(active, generate_rsa_pem())
    return retired
