"""Forms of the account pages: they parse input; the services own the rules."""

from django import forms

from oauth_server import personal_tokens, scopes
from oauth_server.models import PersonalAccessToken


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
        help_text="What the token is for, say the laptop or script that uses it.",
    )
    scope = ScopeChoiceField(
        required=False,
        label="Scopes",
        choices=[
            (name, scopes.SCOPES[name]) for name in personal_tokens.AVAILABLE_SCOPES
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        initial=personal_tokens.DEFAULT_LIFETIME_DAYS,
        help_text=f"From 1 to {personal_tokens.MAX_LIFETIME_DAYS} days.",
    )
