"""Who may do what through the finance API: three roles, read from the caller's verified claims.

On AWS the HTTP API's Cognito JWT authorizer verifies the token and passes its claims in the
request context; the roles are the user's Cognito groups (``cognito:groups``). Locally the
runtime checks the bearer token of ``.receivables/local.json`` and passes the same claims.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from receivables.kernel.errors import ForbiddenError, UnauthenticatedError


class Role(IntEnum):
    """Ordered: each role may do what the ones below it may."""

    VIEWER = 1  # reads everything
    COLLECTOR = 2  # records payments, notes, promises; works the worklist
    CONTROLLER = 3  # writes off, voids, changes the dunning policy


_ROLE_NAMES = frozenset(role.name.lower() for role in Role)


def _groups(claims: dict[str, Any]) -> list[str]:
    raw = claims.get("cognito:groups", "")
    if isinstance(raw, list):
        return [str(g) for g in raw]
    # HTTP APIs pass list claims as text: "[viewer collector]" or "viewer,collector".
    return [g for g in str(raw).strip("[]").replace(",", " ").split() if g]


def role_from_claims(claims: dict[str, Any]) -> Role | None:
    """The highest role the verified claims' ``cognito:groups`` give (None: no role).

    >>> role_from_claims({"cognito:groups": ["viewer", "collector"]})
    <Role.COLLECTOR: 2>
    """
    # Group names are exact: "Controller" or "CONTROLLER" is not the controller group (Cognito's
    # group names are case-sensitive, and a look-alike group must not grant a role).
    roles = [Role[g.upper()] for g in _groups(claims) if g in _ROLE_NAMES]
    return max(roles, default=None)


def role_of(request_context: dict[str, Any] | None) -> tuple[str, Role | None]:
    """The caller's identity (``sub``) and highest role, from the authorizer's claims."""
    authorizer = (request_context or {}).get("authorizer") or {}
    claims = (authorizer.get("jwt") or {}).get("claims") or authorizer.get("claims") or {}
    return str(claims.get("sub") or claims.get("username") or ""), role_from_claims(claims)


def require(request_context: dict[str, Any] | None, needed: Role) -> str:
    """The caller's identity, if they hold ``needed`` or more; else `UnauthenticatedError`
    without an identity, `ForbiddenError` without the role."""
    who, role = role_of(request_context)
    if not who:
        raise UnauthenticatedError("not authenticated")
    if role is None or role < needed:
        raise ForbiddenError(f"this needs the {needed.name.lower()} role")
    return who
