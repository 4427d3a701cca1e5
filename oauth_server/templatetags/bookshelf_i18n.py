"""Template filters for text that reads differently from one language to another."""

from datetime import datetime

from django import template
from django.utils import translation
from django.utils.timesince import timesince
from django.utils.translation import gettext, npgettext_lazy

register = template.Library()

# Durations inside "… ago": German puts them in the dative ("vor 3 Tagen"), so they
# are translated apart from Django's own (`timesince`: "3 Tage").
AGO_TIME_STRINGS = {
    "year": npgettext_lazy("time ago", "%(num)d year", "%(num)d years", "num"),
    "month": npgettext_lazy("time ago", "%(num)d month", "%(num)d months", "num"),
    "week": npgettext_lazy("time ago", "%(num)d week", "%(num)d weeks", "num"),
    "day": npgettext_lazy("time ago", "%(num)d day", "%(num)d days", "num"),
    "hour": npgettext_lazy("time ago", "%(num)d hour", "%(num)d hours", "num"),
    "minute": npgettext_lazy("time ago", "%(num)d minute", "%(num)d minutes", "num"),
}

# Languages that write a scope description in lower case inside a sentence. German
# keeps its capitals: nouns, and the polite "Sie"/"Ihre" the descriptions start with.
LOWER_CASE_IN_SENTENCE = ("en",)


@register.filter
def ago(value: datetime | None) -> str:
    """How long ago `value` was, in words: "3 days, 2 hours ago"."""
    if not value:
        return ""
    return gettext("%(time)s ago") % {
        "time": timesince(value, time_strings=AGO_TIME_STRINGS)
    }


@register.filter
def in_sentence(description: str) -> str:
    """A scope description run into a sentence ("… allowed it to: see your …")."""
    language = translation.get_language() or ""
    if language.split("-")[0] in LOWER_CASE_IN_SENTENCE:
        return description.lower()
    return description
