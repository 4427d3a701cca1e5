"""Who may do what: token scopes first, then the user's model permissions."""

from django.db.models import Model
from oauth2_provider.contrib.rest_framework import (
    OAuth2Authentication,
    TokenMatchesOASRequirements,
)
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from resources.exceptions import InsufficientScope


def is_token_request(request: Request) -> bool:
    """Whether the request authenticated with a bearer token (not a session)."""
    return isinstance(request.successful_authenticator, OAuth2Authentication)


class TokenHasMethodScope(TokenMatchesOASRequirements):
    """The token carries the scopes the view names for this method.

    Views set `required_alternate_scopes` (`{"GET": [[BOOKS_READ]], ...}`, DOT's
    OpenAPI-style map, which drf-spectacular turns into per-operation security).
    A valid token lacking them raises `InsufficientScope` (403 with an RFC 6750
    challenge). Session-authenticated users of the browsable API pass here and are
    judged by model permissions alone.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not is_token_request(request):
            return bool(request.user and request.user.is_authenticated)
        if super().has_permission(request, view):
            return True
        alternatives = self.get_required_alternate_scopes(request, view).get(
            request.method.upper(), []
        )
        raise InsufficientScope(scopes=alternatives[0] if alternatives else [])


class HasCataloguePermission(BasePermission):
    """A token acting for a user needs the user's `can_read_book` / `can_edit_book`.

    Reads need `resources.can_read_book`; writes `resources.can_edit_book` unless
    the view names another write permission (`write_permission = None` means any
    signed-in user may write, e.g. reviews in their own name). Client-credentials
    tokens (no user) may read, never write.
    """

    message = "Your account lacks the permission for this action."
    read_permission = "resources.can_read_book"
    write_permission = "resources.can_edit_book"

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        is_read = request.method in SAFE_METHODS
        if user is None or not user.is_authenticated:
            # Only a client-credentials token gets here (no user, valid token).
            return is_read and request.auth is not None
        if is_read:
            return user.has_perm(self.read_permission)
        needed = getattr(view, "write_permission", self.write_permission)
        # Writers must also be able to read what they write about.
        return user.has_perm(self.read_permission) and (
            needed is None or user.has_perm(needed)
        )


class IsOwnerOrReadOnly(BasePermission):
    """Objects with a `user` can be changed only by that user."""

    message = "You can only change your own reviews."

    def has_object_permission(
        self, request: Request, view: APIView, obj: Model
    ) -> bool:
        return request.method in SAFE_METHODS or obj.user_id == getattr(
            request.user, "pk", None
        )
