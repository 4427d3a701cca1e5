"""Password hasher for secrets the server generates itself (client secrets).

Slow hashes (PBKDF2, Argon2) exist to make guessing *low-entropy* human passwords
expensive. A client secret here is 64 random characters (>= 256 bits), so no amount of
guessing can find it, and one salted SHA-256 is as safe as a million PBKDF2 rounds
while costing microseconds instead of ~0.3 s per token request.
"""

import base64
import hashlib

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_noop as _


class GeneratedSecretHasher(BasePasswordHasher):
    """Salted SHA-256, for high-entropy generated secrets only, never user passwords."""

    algorithm = "generated_secret_sha256"

    def encode(self, password: str, salt: str) -> str:
        self._check_encode_args(password, salt)
        digest = hashlib.sha256(f"{salt}${password}".encode()).digest()
        encoded = base64.b64encode(digest).decode("ascii").strip()
        return f"{self.algorithm}${salt}${encoded}"

    def decode(self, encoded: str) -> dict[str, str]:
        algorithm, salt, hash_ = encoded.split("$", 2)
        return {"algorithm": algorithm, "hash": hash_, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded: str) -> dict[str, str]:
        decoded = self.decode(encoded)
        return {
            _("algorithm"): decoded["algorithm"],
            _("salt"): mask_hash(decoded["salt"], show=2),
            _("hash"): mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        return False

    def harden_runtime(self, password: str, encoded: str) -> None:
        """Nothing to even out: the cost does not depend on a work factor."""
