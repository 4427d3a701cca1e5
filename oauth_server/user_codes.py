"""User codes of the device grant: easy to read out, hard to guess (RFC 8628 §6.1).

Plain module, no Django import: `config.settings` hands `generate` to DOT as its
`OAUTH_DEVICE_USER_CODE_GENERATOR`.
"""

import math
import secrets

# Consonants only: no vowels (no words), no 0/O, 1/I/L-like pairs, no digits.
ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
LENGTH = 8
GROUP = 4
ENTROPY_BITS = LENGTH * math.log2(len(ALPHABET))  # 20**8: about 34.6 bits
# What people type between the groups, phones' autocorrected dashes included.
SEPARATORS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2212")


def generate() -> str:
    """A fresh random code shown as `XXXX-XXXX`."""
    return display("".join(secrets.choice(ALPHABET) for _ in range(LENGTH)))


def display(compact: str) -> str:
    """`BCDFGHJK` as `BCDF-GHJK`."""
    return "-".join(compact[i : i + GROUP] for i in range(0, len(compact), GROUP))


def normalize(typed: str) -> str:
    """What a person typed, in the stored form: any case, spaces and dashes ignored.

    Anything that cannot be a code comes back compacted, and so matches nothing.
    """
    compact = "".join(
        ch for ch in typed.upper() if not ch.isspace() and ch not in SEPARATORS
    )
    if len(compact) == LENGTH and set(compact) <= set(ALPHABET):
        return display(compact)
    return compact
