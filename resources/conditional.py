"""Conditional requests on detail endpoints: ETag / If-None-Match, and If-Match."""

import hashlib
import json

from django.db.models import Model
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import parse_etags, quote_etag
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource has changed since you read it (If-Match)."
    default_code = "precondition_failed"


class ConditionalRetrieveMixin:
    """Detail responses carry an ETag; a matching If-None-Match gets 304, and a
    request whose If-Match names an old ETag (or no valid one) gets 412 (no lost
    updates).

    The tag hashes the serialized data with the version and media type, so one
    resource rendered as JSON and as XML has two tags.
    """

    def etag_for(self, data: object) -> str:
        payload = json.dumps(data, cls=JSONEncoder, sort_keys=True)
        seed = f"{self.request.version}|{self.request.accepted_media_type}|{payload}"
        return quote_etag(hashlib.sha256(seed.encode()).hexdigest()[:32])

    def get_object(self) -> Model:
        obj = super().get_object()
        if_match = self.request.META.get("HTTP_IF_MATCH")
        # Any method (RFC 9110 §13.1.1); answered here, Django's 412 would be HTML.
        if if_match:
            wanted = parse_etags(if_match)
            current = self.etag_for(self.get_serializer(obj).data)
            if "*" not in wanted and current not in wanted:
                raise PreconditionFailed()
        return obj

    def finalize_response(self, request: Request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if (
            getattr(self, "action", None) == "retrieve"
            and request.method in ("GET", "HEAD")
            and isinstance(response, Response)
            and response.status_code == 200
        ):
            etag = self.etag_for(response.data)
            response["ETag"] = etag
            patch_vary_headers(response, ["Accept", "Authorization"])
            not_modified = get_conditional_response(
                request, etag=etag, response=response
            )
            if not_modified is not response:
                return not_modified
        return response
