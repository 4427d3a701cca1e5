"""Serializer behaviour shared by the catalogue API and the personal-tokens API."""

from rest_framework import serializers


class RejectUnknownFieldsMixin:
    """Refuses fields the serializer cannot write instead of silently ignoring them.

    A misspelt or read-only field in a request body is a 400 naming each one, so a
    client learns at once that its change did not happen.
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {
                name for name, field in self.fields.items() if not field.read_only
            }
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown or read-only field."] for name in unknown}
                )
        return super().to_internal_value(data)
