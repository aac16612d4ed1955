"""The security headers every HTML answer carries: a Content-Security-Policy that allows only
what the pages use, no framing, no type sniffing, no Referer.

The pages have no scripts, load nothing from elsewhere and style themselves with one static
``<style>`` block each, allowed by its hash (so an injected style or script runs nowhere); their
forms post to the page's own origin (and may lead to Stripe Checkout, `CHECKOUT_ORIGINS`), and
the upload forms to the S3 origin of their presigned POST, which the page names
(``form_targets``). ``Referrer-Policy: no-referrer`` matters most:
the signed links carry the customer's token in the path.

The finance dashboard (rendered in `receivables.web.dashboard`) also sizes its bars with ``style``
attributes: `dashboard_headers` allows inline style attributes (not elements, not scripts) for
it alone.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from receivables.web.dashboard import STYLE

if TYPE_CHECKING:
    from collections.abc import Iterable


# Stripe Checkout, where a portal form's 303 leads: browsers apply form-action to the redirect
# after a form too, so its origin is a form target of every page. The local runtime's Stripe
# serves its checkout pages on its own origin, which the pay function adds at cold start.
CHECKOUT_ORIGINS: list[str] = ["https://checkout.stripe.com"]


def allow_checkout_at(api_base: str | None) -> None:
    """Add the origin of ``api_base`` (a local Stripe's) to the Checkout origins forms may lead to."""
    origin = origin_of(api_base or "")
    if origin is not None and origin not in CHECKOUT_ORIGINS:
        CHECKOUT_ORIGINS.append(origin)


def style_hash(css: str) -> str:
    """The CSP source that allows the ``<style>`` element holding exactly ``css``."""
    digest = hashlib.sha256(css.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def origin_of(url: str) -> str | None:
    """The ``scheme://host[:port]`` of an absolute http(s) URL; None for a relative one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(
    styles: Iterable[str] = (), form_targets: Iterable[str] = (), *, style_attributes: bool = False
) -> str:
    """The policy of a page whose ``<style>`` elements hold ``styles`` and whose forms may also
    post to the origins of ``form_targets`` (absolute URLs; relative ones are the page's own)."""
    hashes = sorted({style_hash(css) for css in styles})
    targets = sorted({o for o in (origin_of(u) for u in (*form_targets, *CHECKOUT_ORIGINS)) if o is not None})
    directives = [
        "default-src 'self'",
        "script-src 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        " ".join(["form-action 'self'", *targets]),
    ]
    if style_attributes:
        # Browsers that know the split directives (all current ones) keep the elements to their
        # hashes; 'unsafe-inline' beside a hash would be ignored, so the fallback has none.
        directives += [
            "style-src 'self' 'unsafe-inline'",
            " ".join(["style-src-elem 'self'", *hashes]),
            "style-src-attr 'unsafe-inline'",
        ]
    else:
        directives.append(" ".join(["style-src 'self'", *hashes]))
    return "; ".join(directives)


def security_headers(
    styles: Iterable[str] = (), form_targets: Iterable[str] = (), *, style_attributes: bool = False
) -> dict[str, str]:
    """The headers of an HTML answer (see `content_security_policy` for the arguments).

    >>> security_headers()["X-Frame-Options"]
    'DENY'
    """
    return {
        "Content-Security-Policy": content_security_policy(
            styles, form_targets, style_attributes=style_attributes
        ),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


# A page without styles or outside forms (and the safety net of the functions' responses).
SECURITY_HEADERS = security_headers()


def dashboard_headers() -> dict[str, str]:
    """The headers of the finance dashboard's HTML: its stylesheet by hash, its bars' inline
    widths allowed, no forms."""

    return security_headers((STYLE,), style_attributes=True)
