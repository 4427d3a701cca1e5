"""The CLI's token file: JSON, readable by its owner only (mode 0600)."""

import json
import os
import tempfile
from pathlib import Path

from clients.tokens import Tokens


class TokenFile:
    """Tokens for one issuer and client, kept at `path`."""

    def __init__(self, path: Path, *, issuer: str, client_id: str) -> None:
        self.path = path
        self.issuer = issuer
        self.client_id = client_id

    def load(self) -> Tokens | None:
        """The stored tokens, or None if absent, unreadable, or for someone else."""
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or (
            data.get("issuer"),
            data.get("client_id"),
        ) != (self.issuer, self.client_id):
            return None
        return (
            Tokens.from_dict(data.get("tokens") or {}) if data.get("tokens") else None
        )

    def save(self, tokens: Tokens | None) -> None:
        """Write atomically with mode 0600 (None deletes the file)."""
        if tokens is None:
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        payload = {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "tokens": tokens.to_dict(),
        }
        # mkstemp creates the file 0600 before anything secret is written to it.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(payload, f)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
