"""The one registry of OAuth scopes: names and what they mean to a person.

Plain data, no Django import: `config.settings` hands `SCOPES` to DOT, the consent
page and discovery read the descriptions, and the resource API names scopes from here.
The descriptions are English msgids; pages show them through
`oauth_server.i18n.scope_description`, in the reader's language.
"""


def gettext_noop(message: str) -> str:
    """Mark `message` for translation (`makemessages` finds this name) as it is."""
    return message


OPENID = "openid"
PROFILE = "profile"
EMAIL = "email"
BOOKS_READ = "books:read"
BOOKS_WRITE = "books:write"
INTROSPECTION = "introspection"

# Insertion order is the order the consent page lists them in.
SCOPES: dict[str, str] = {
    OPENID: gettext_noop("Sign you in with your account (OpenID Connect)"),
    PROFILE: gettext_noop("See your name and username"),
    EMAIL: gettext_noop("See your email address"),
    BOOKS_READ: gettext_noop("Read the book catalogue and reviews"),
    BOOKS_WRITE: gettext_noop("Add and change books and write reviews in your name"),
    INTROSPECTION: gettext_noop(
        "Check whether access tokens are valid (for resource servers)"
    ),
}

# Scopes that only make sense when a user signs in (never for client credentials).
USER_ONLY_SCOPES = frozenset({OPENID, PROFILE, EMAIL})


def parse(value: str) -> list[str]:
    """Split a space-separated scope string, dropping duplicates and keeping order."""
    return list(dict.fromkeys(value.split()))


def unknown(names: list[str]) -> list[str]:
    """The names in `names` that are not registered scopes."""
    return [name for name in names if name not in SCOPES]
