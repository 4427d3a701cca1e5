"""Content-Security-Policy: the site's strict policy, plus the client a page serves.

The policy itself is `CONTENT_SECURITY_POLICY` in config/settings.py (django-csp).
Two things in it depend on the page:

- `form-action`: Chromium applies it to every redirect that follows a form
  submission. Allowing the consent form sends the browser from `/o/authorize/` on to
  the client's redirect URI, signing in may go on through `/o/authorize/` to the
  client (an application that skips consent), and confirming an RP-initiated logout
  goes on to the client's post-logout URI. Those pages allow the origin of that one
  URI, and only after checking it is registered for the application.
- `img-src`: the consent pages show the application's logo from its own origin.

DRF's browsable API templates carry `style` attributes: its pages allow inline
style attributes (not style elements, not scripts).
"""

import re
from urllib.parse import urlsplit

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest, HttpResponseBase
from rest_framework.renderers import BrowsableAPIRenderer

from oauth_server import selectors
from oauth_server.models import Application

# Only plain origins become CSP sources: nothing that could end a directive.
_HOST = re.compile(r"^[A-Za-z0-9.\-\[\]:]+$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*$")
AUTHORIZE = selectors.AUTHORIZE


def source_of(uri: str) -> str | None:
    """The CSP source for `uri`'s origin (`https://host:port`, or `scheme:`)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not _SCHEME.match(scheme):
        return None
    if scheme not in ("http", "https"):
        return f"{scheme}:"  # a native app's private-use scheme (RFC 8252 §7.1)
    if not parts.netloc or "@" in parts.netloc or not _HOST.match(parts.netloc):
        return None
    return f"{scheme}://{parts.netloc}"


def authorization_redirect(url: str) -> str | None:
    """The redirect URI of an authorization request URL, if registered for its client."""
    request = selectors.authorization_request(url)
    if request is None:
        return None
    redirect_uri = request.params.get("redirect_uri", "")
    if not request.application.redirect_uri_allowed(redirect_uri):
        return None
    return redirect_uri


def page_targets(
    request: HttpRequest, context: dict
) -> tuple[list[str], Application | None]:
    """Where a page's form may send the browser next, and the application it shows."""
    application = context.get("application")
    if not isinstance(application, Application):
        application = None
    targets = []
    view = request.resolver_match.view_name if request.resolver_match else ""
    if view == AUTHORIZE and application is not None:
        # Rendered only after oauthlib validated the redirect URI for this client.
        redirect_uri = context.get("redirect_uri") or ""
        if application.redirect_uri_allowed(redirect_uri):
            targets.append(redirect_uri)
    elif view == "oauth2_provider:rp-initiated-logout" and application is not None:
        form = context.get("form")
        uri = (getattr(form, "initial", None) or {}).get("post_logout_redirect_uri")
        if uri and application.post_logout_redirect_uri_allowed(uri):
            targets.append(uri)
    elif view == "login":
        next_url = context.get("next") or ""
        if redirect_uri := authorization_redirect(next_url):
            targets.append(redirect_uri)
    return targets, application


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, widened per page for the client it serves."""

    def get_policy_parts(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        report_only: bool = False,
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:  # no report-only policy is configured
            return parts
        extra: dict[str, list[str]] = {}
        if isinstance(
            getattr(response, "accepted_renderer", None), BrowsableAPIRenderer
        ):
            extra["style-src-attr"] = [UNSAFE_INLINE]
        context = getattr(response, "context_data", None)
        if isinstance(context, dict):
            targets, application = page_targets(request, context)
            if sources := [s for s in map(source_of, targets) if s]:
                extra["form-action"] = sources
            logo = application.logo_url if application is not None else ""
            if logo and (source := source_of(logo)):
                extra["img-src"] = [source]
        if extra:
            update = dict(parts.update or {})
            for directive, sources in extra.items():
                update[directive] = [*update.get(directive, []), *sources]
            parts.update = update
        return parts
