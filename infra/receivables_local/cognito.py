"""The finance user pool on the local runtime: created in moto from template.yaml's own resources,
with one user per role.

moto's CloudFormation has no model for Cognito, so the runtime creates the pool itself, through
the Cognito API, from the template's ``AWS::Cognito::UserPool`` (its username and password
policy), its groups (``AWS::Cognito::UserPoolGroup``: the roles) and its app clients (the finance
API's, the console's: their callback and sign-out URLs pointed at the local HTTP API). The stack
is then created without them, and the functions' variables that name them get the local pool's
values (`environment`). Locally there is no second factor: the emulated managed login
(`receivables_local.login`) asks for a password only.

The tokens are moto's: RS256 JWTs of the pool, issued as ``https://cognito-idp.<region>.amazonaws.com/<pool>``
and signed with the keys moto publishes at ``<aws endpoint>/<pool>/.well-known/jwks.json``, so
the console verifies them exactly as on AWS.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from receivables_local.aws import LOCAL_CONFIG

if TYPE_CHECKING:
    import boto3

COGNITO_PREFIX = "AWS::Cognito::"
POOL = "FinanceUserPool"
API_CLIENT = "FinanceUserPoolClient"
CONSOLE_CLIENT = "FinanceConsoleClient"
ROLES = ("viewer", "collector", "controller")
USER_DOMAIN = "receivables.local"


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """One local user: sign in with ``username`` and ``password``; ``role`` is their group."""

    username: str
    password: str
    role: str

    def to_json(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password, "role": self.role}


@dataclass
class LocalUserPool:
    """The pool as created: its id, its clients, its users, where its keys are."""

    region: str
    aws_endpoint: str
    pool_id: str
    clients: dict[str, str]  # logical id of the client → its client id
    callback_urls: dict[str, tuple[str, ...]] = field(default_factory=dict)  # client id → URLs
    logout_urls: dict[str, tuple[str, ...]] = field(default_factory=dict)
    users: list[ConsoleUser] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.aws_endpoint}/{self.pool_id}/.well-known/jwks.json"

    @property
    def console_client_id(self) -> str:
        return self.clients[CONSOLE_CLIENT]

    @property
    def api_client_id(self) -> str:
        return self.clients[API_CLIENT]

    def environment(self, login_url: str) -> dict[str, str]:
        """The functions' variables that name the pool's resources, with the local values."""
        return {
            "CONSOLE_CLIENT_ID": self.console_client_id,
            "CONSOLE_LOGIN_URL": login_url,
            "COGNITO_ISSUER": self.issuer,
            "COGNITO_JWKS_URL": self.jwks_url,
            "FINANCE_USER_POOL_ID": self.pool_id,
        }

    @property
    def physical(self) -> dict[str, str]:
        """Each of the template's Cognito resources the stack may name, and its local id."""
        return {POOL: self.pool_id, **self.clients}

    def connection(self, login_url: str) -> dict[str, Any]:
        """What local.json says of the pool."""
        return {
            "user_pool_id": self.pool_id,
            "issuer": self.issuer,
            "jwks_url": self.jwks_url,
            "login_url": login_url,
            "console_client_id": self.console_client_id,
            "api_client_id": self.api_client_id,
        }


def _password() -> str:
    """A password the template's policy accepts (12+ characters, upper, lower, digits)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(16))
        cases = any(c.isupper() for c in candidate) and any(c.islower() for c in candidate)
        if cases and sum(c.isdigit() for c in candidate) >= 2:
            return candidate


def _urls(values: Any, api_url: str) -> tuple[str, ...]:
    """A client's URLs with the HTTP API's address (``https://${HttpApi}.execute-api...``) made local."""
    found = []
    for value in values if isinstance(values, list) else [values]:
        while isinstance(value, dict) and "Fn::If" in value:  # no PublicBaseUrl locally: the API's own
            value = value["Fn::If"][2]
        text = value.get("Fn::Sub", "") if isinstance(value, dict) else str(value)
        path = text.split("${AWS::URLSuffix}", 1)[1] if "${AWS::URLSuffix}" in text else text
        found.append(api_url.rstrip("/") + path)
    return tuple(found)


def create_user_pool(
    session: boto3.session.Session, template: dict[str, Any], endpoint: str, region: str, api_url: str
) -> LocalUserPool:
    """The pool, groups, clients and users of template.yaml, in the emulator at ``endpoint``."""
    factory: Any = session.client
    cognito = factory("cognito-idp", endpoint_url=endpoint, region_name=region, config=LOCAL_CONFIG)
    resources = template["Resources"]
    props = resources[POOL]["Properties"]
    created = cognito.create_user_pool(
        PoolName="receivables-local-finance",
        Policies=props.get("Policies", {}),
        UsernameAttributes=props.get("UsernameAttributes", []),
        AutoVerifiedAttributes=props.get("AutoVerifiedAttributes", []),
        AdminCreateUserConfig=props.get("AdminCreateUserConfig", {}),
        MfaConfiguration="OFF",
    )
    pool_id = created["UserPool"]["Id"]
    pool = LocalUserPool(region, endpoint, pool_id, {})
    for logical_id, resource in resources.items():
        kind = resource["Type"]
        if kind == "AWS::Cognito::UserPoolGroup":
            group = resource["Properties"]
            cognito.create_group(
                UserPoolId=pool_id, GroupName=group["GroupName"], Description=group.get("Description", "")
            )
        elif kind == "AWS::Cognito::UserPoolClient":
            client_props = resource["Properties"]
            callbacks = _urls(client_props.get("CallbackURLs", []), api_url)
            logouts = _urls(client_props.get("LogoutURLs", []), api_url)
            options: dict[str, Any] = {
                "UserPoolId": pool_id,
                "ClientName": logical_id,
                "GenerateSecret": False,
                # The local login checks the password with the admin flow; a machine can use
                # USER_PASSWORD_AUTH for a token of the finance API.
                "ExplicitAuthFlows": [
                    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                    "ALLOW_USER_PASSWORD_AUTH",
                    "ALLOW_REFRESH_TOKEN_AUTH",
                ],
            }
            if callbacks:
                options.update(
                    CallbackURLs=list(callbacks),
                    LogoutURLs=list(logouts),
                    AllowedOAuthFlows=client_props.get("AllowedOAuthFlows", ["code"]),
                    AllowedOAuthScopes=client_props.get("AllowedOAuthScopes", ["openid"]),
                    AllowedOAuthFlowsUserPoolClient=True,
                    SupportedIdentityProviders=["COGNITO"],
                )
            client_id = cognito.create_user_pool_client(**options)["UserPoolClient"]["ClientId"]
            pool.clients[logical_id] = client_id
            pool.callback_urls[client_id] = callbacks
            pool.logout_urls[client_id] = logouts
    for role in ROLES:
        user = ConsoleUser(f"{role}@{USER_DOMAIN}", _password(), role)
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=user.username,
            UserAttributes=[
                {"Name": "email", "Value": user.username},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=user.username, Password=user.password, Permanent=True
        )
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=user.username, GroupName=role)
        pool.users.append(user)
    return pool
