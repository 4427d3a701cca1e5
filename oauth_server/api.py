"""`/api/<version>/personal-tokens/`: a signed-in user manages their personal tokens.

Only a browser session may manage them: a third-party application holding one of
the user's OAuth tokens must not mint itself longer-lived or wider tokens.
"""

from django.db.models import QuerySet
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import mixins, serializers, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from common.serializers import RejectUnknownFieldsMixin
from oauth_server import personal_tokens
from oauth_server.models import PersonalAccessToken


class IsSessionUser(BasePermission):
    """The request comes from a signed-in browser session, not a bearer token."""

    message = "Personal tokens are managed from a signed-in session, not with a token."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.successful_authenticator, SessionAuthentication)


class PersonalTokenSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    """A personal token; `token` is present only in the response that created it."""

    scope = serializers.CharField(
        source="access_token.scope",
        help_text="Space-separated: " + " ".join(personal_tokens.AVAILABLE_SCOPES),
    )
    expires_in_days = serializers.IntegerField(
        write_only=True,
        required=False,
        default=personal_tokens.DEFAULT_LIFETIME_DAYS,
        min_value=1,
        max_value=personal_tokens.MAX_LIFETIME_DAYS,
    )
    expires = serializers.DateTimeField(source="access_token.expires", read_only=True)
    expired = serializers.SerializerMethodField()
    token = serializers.SerializerMethodField()

    class Meta:
        model = PersonalAccessToken
        fields = [
            "id",
            "name",
            "scope",
            "expires_in_days",
            "expires",
            "expired",
            "hint",
            "created",
            "token",
        ]
        read_only_fields = ["hint", "created"]

    def get_expired(self, obj: PersonalAccessToken) -> bool:
        return obj.access_token.is_expired()

    def get_token(self, obj: PersonalAccessToken) -> str | None:
        return getattr(obj, "cleartext", None)


class PersonalTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """List, create (the token is shown once) and revoke your personal tokens."""

    serializer_class = PersonalTokenSerializer
    # The session in any format (this is the signed-in user's own account page);
    # a bearer token is recognised only to be refused by IsSessionUser.
    authentication_classes = [OAuth2Authentication, SessionAuthentication]
    permission_classes = [IsSessionUser]
    pagination_class = None

    def get_queryset(self) -> QuerySet[PersonalAccessToken]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return PersonalAccessToken.objects.none()
        return personal_tokens.personal_token_list(user=self.request.user)

    def perform_create(self, serializer: PersonalTokenSerializer) -> None:
        data = serializer.validated_data
        issued = personal_tokens.personal_token_create(
            user=self.request.user,
            name=data["name"],
            scope=data["access_token"]["scope"],
            expires_in_days=data["expires_in_days"],
            request=self.request,
        )
        issued.personal.cleartext = issued.token
        serializer.instance = issued.personal

    def get_success_headers(self, data: dict) -> dict[str, str]:
        # The created token is shown once, in this response: no cache may keep it.
        return {
            **super().get_success_headers(data),
            "Cache-Control": "no-store",
            "Pragma": "no-cache",
        }

    def perform_destroy(self, instance: PersonalAccessToken) -> None:
        personal_tokens.personal_token_revoke(personal=instance, request=self.request)


router = SimpleRouter()
router.register("personal-tokens", PersonalTokenViewSet, basename="personal-token")
urlpatterns = router.urls
