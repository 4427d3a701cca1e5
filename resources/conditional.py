"""Conditional GET (ETag / If-None-Match) for detail endpoints."""

import hashlib
import json

from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import quote_etag
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder


class ConditionalRetrieveMixin:
    """Detail responses carry an ETag; a matching If-None-Match gets 304.

    The tag hashes the serialized data with the version and media type, so one
    resource rendered as JSON and as XML has two tags.
    """

    def finalize_response(self, request: Request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if (
            getattr(self, "action", None) == "retrieve"
            and request.method in ("GET", "HEAD")
            and isinstance(response, Response)
            and response.status_code == 200
        ):
            payload = json.dumps(response.data, cls=JSONEncoder, sort_keys=True)
            seed = f"{request.version}|{request.accepted_media_type}|{payload}"
            etag = quote_etag(hashlib.sha256(seed.encode()).hexdigest()[:32])
            response["ETag"] = etag
            patch_vary_headers(response, ["Accept", "Authorization"])
            not_modified = get_conditional_response(
                request, etag=etag, response=response
            )
            if not_modified is not response:
                return not_modified
        return response
