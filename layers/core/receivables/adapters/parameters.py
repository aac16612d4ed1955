"""Systems Manager parameters, through Powertools' parameters: configuration the stack writes
once a resource exists, which a function cannot be given in its environment without a cycle.

The HTTP API invokes the finance and pay functions, so its definition names them; their
environment cannot name the API back (CloudFormation refuses the circular dependency). The
template writes the API's public URL into a parameter after both exist, and the functions read it
on first use, cached for five minutes like the secrets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

PARAMETER_MAX_AGE = 300


def parameter_text(name: str) -> str:
    """The current value of the String parameter ``name``."""
    # Powertools' parameters (and boto3 with them) load at the first read, not at cold start.
    from aws_lambda_powertools.utilities.parameters import get_parameter

    return str(get_parameter(name, max_age=PARAMETER_MAX_AGE))


def public_base_url(env: Mapping[str, str]) -> str:
    """Where customers reach the HTTP API, without a trailing slash: ``PUBLIC_BASE_URL`` when the
    environment gives it, else the parameter ``PUBLIC_BASE_URL_PARAMETER`` names (the template's
    way, the API's URL or the custom domain given at deploy)."""
    given = env.get("PUBLIC_BASE_URL")
    if given:
        return given.rstrip("/")
    name = env.get("PUBLIC_BASE_URL_PARAMETER")
    if not name:
        raise KeyError("PUBLIC_BASE_URL or PUBLIC_BASE_URL_PARAMETER must be set")
    return parameter_text(name).rstrip("/")
