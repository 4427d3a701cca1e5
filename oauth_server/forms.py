"""Forms of the account pages: they parse input; the services own the rules."""

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from oauth_server import capabilities, personal_tokens, scopes
from oauth_server.models import Application, PersonalAccessToken


class ScopeChoiceField(forms.MultipleChoiceField):
    """Checkboxes for scopes; which may be chosen is `personal_token_create`'s rule."""

    def validate(self, value: list[str]) -> None:
        pass


class PersonalTokenForm(forms.Form):
    """Name, scopes and lifetime of a new personal token.

    Only shape is checked here (text, a whole number); `personal_token_create`
    decides what is allowed and its `ValidationError` lands on these same fields.
    """

    name = forms.CharField(
        required=False,
        strip=False,
        max_length=PersonalAccessToken._meta.get_field("name").max_length,
        label=_("Name"),
        help_text=_("What the token is for, say the laptop or script that uses it."),
    )
    scope = ScopeChoiceField(
        required=False,
        label=_("Scopes"),
        choices=[
            # The msgids are marked in scopes.py.
            (name, _(scopes.SCOPES[name]))
            for name in personal_tokens.AVAILABLE_SCOPES
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    expires_in_days = forms.IntegerField(
        label=_("Expires after (days)"),
        initial=personal_tokens.DEFAULT_LIFETIME_DAYS,
        help_text=format_lazy(
            _("From 1 to {max_days} days."), max_days=personal_tokens.MAX_LIFETIME_DAYS
        ),
    )


# --- Developer portal -------------------------------------------------------------------

CLIENT_TYPE_CHOICES = [
    (
        Application.CLIENT_CONFIDENTIAL,
        _("Confidential: runs on a server that can keep a secret"),
    ),
    (
        Application.CLIENT_PUBLIC,
        _("Public: a browser, mobile or desktop app that cannot keep a secret"),
    ),
]
GRANT_CHOICES = [
    (
        capabilities.REGISTERED_AUTHORIZATION_CODE,
        _("Authorization code: people sign in and allow access (with PKCE)"),
    ),
    (
        capabilities.REGISTERED_CLIENT_CREDENTIALS,
        _("Client credentials: a program acting on its own, no person signs in"),
    ),
    (
        capabilities.REGISTERED_DEVICE_CODE,
        _("Device code: a TV or command-line tool; people sign in on another device"),
    ),
]


class UriListField(forms.CharField):
    """URIs, one per line (spaces separate them too), as a list."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: object) -> object:
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def to_python(self, value: object) -> list[str]:
        return (super().to_python(value) or "").split()


def _url_field(label: str, help_text: str = "") -> forms.URLField:
    return forms.URLField(
        label=label,
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=help_text,
    )


class ApplicationChangeForm(forms.Form):
    """What a developer may change about their application.

    Shapes only (text, URLs, known scopes); the model's rules, which the services
    apply with `full_clean`, land on these same field names.
    """

    name = forms.CharField(
        label=_("Name"),
        max_length=Application._meta.get_field("name").max_length,
        help_text=_("People see it when your application asks for their consent."),
    )
    redirect_uris = UriListField(
        label=_("Redirect URIs"),
        required=False,
        help_text=_(
            "One per line, matched exactly; https, or http for 127.0.0.1 and "
            "localhost. Only for the authorization code grant."
        ),
    )
    post_logout_redirect_uris = UriListField(
        label=_("Post-logout redirect URIs"),
        required=False,
        help_text=_("One per line: where people may go after signing out."),
    )
    logo_url = _url_field(
        _("Logo URL"), _("A square image, shown on the consent page.")
    )
    homepage_url = _url_field(_("Homepage URL"))
    policy_url = _url_field(_("Privacy policy URL"))
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What your application does, in a sentence or two."),
    )
    requested_scopes = forms.MultipleChoiceField(
        label=_("Requested scopes"),
        required=False,
        choices=[(name, name) for name in scopes.SCOPES],
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "An administrator approves or declines what you request; until then "
            "your application cannot obtain these scopes."
        ),
    )


class ApplicationRegisterForm(ApplicationChangeForm):
    """A new application: what the change form asks, plus its client and grant type,
    which stay as registered."""

    client_type = forms.ChoiceField(
        label=_("Client type"),
        choices=CLIENT_TYPE_CHOICES,
        initial=Application.CLIENT_CONFIDENTIAL,
        widget=forms.RadioSelect,
    )
    authorization_grant_type = forms.ChoiceField(
        label=_("Grant type"),
        choices=GRANT_CHOICES,
        initial=capabilities.REGISTERED_AUTHORIZATION_CODE,
        widget=forms.RadioSelect,
    )
    field_order = ["name", "client_type", "authorization_grant_type"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        scope_field = self.fields["requested_scopes"]
        scope_field.required = True
        scope_field.error_messages["required"] = _("Request at least one scope.")
