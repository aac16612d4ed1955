"""`receivables local`: the whole system on loopback, in one process.

- the AWS emulator: moto's ThreadedMotoServer on 127.0.0.1:<port base> (4566 by default), with
  the local runtime's adapters installed (receivables_local.moto_patches);
- the stack created from template.yaml (receivables_local.provision);
- the event router and the in-process Lambda invoker (receivables_local.router, .invoker);
- the runtime's clock (receivables_local.clock): the wall clock, or simulated time that runs
  ``time_scale`` times faster while the system is quiescent (and stands while work is pending),
  or, ``stepped``, time that moves only when `LocalRuntime.advance` is called;
- the connection file ``.receivables/local.json`` and a banner.

State is in memory and starts empty at every run.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from receivables.adapters.cognito import ManagedLogin, SignInError
from receivables.kernel import clock as shared_clock
from receivables_local import moto_patches
from receivables_local.api import ApiServer, api_functions, protected_functions
from receivables_local.aws import FAKE_CREDENTIALS
from receivables_local.clock import LocalClock, Mode, TimerSource
from receivables_local.cognito import LocalUserPool, create_user_pool
from receivables_local.functions import REPO_ROOT
from receivables_local.invoker import Invoker
from receivables_local.login import ManagedLoginServer
from receivables_local.provision import Stack, provision
from receivables_local.router import Router
from receivables_local.stripe_local import LocalStripe
from receivables_local.template import load_template

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import timedelta
    from pathlib import Path

log = logging.getLogger("receivables.local")
T = TypeVar("T")

DEFAULT_PORT_BASE = 4566
# The customary ports: moto/LocalStack 4566, stripe-mock 12111, sam local 3000. With any other
# --port-base N the services take N (AWS), N+1 (Stripe), N+2 (HTTP API); the user pool's managed
# login is always on N+3.
DEFAULT_STRIPE_PORT = 12111
DEFAULT_API_PORT = 3000
REGION = "eu-west-1"
ACCOUNT = "123456789012"


def _quiet_emulator_logs() -> None:
    """moto warns about each template resource it has no CloudFormation model for (policies,
    alarms, EventInvokeConfig): known, harmless locally, and not news at every start."""
    import warnings

    warnings.filterwarnings("ignore", message="Tried to parse .* but it's not supported by moto")
    # Powertools warns when a handler published no metric (metrics are off locally).
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    logging.getLogger("moto").setLevel(logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


@dataclass
class LocalRuntime:
    """Start with `start`, stop with `stop`; `connection` is what local.json holds."""

    port_base: int = DEFAULT_PORT_BASE
    # 1.0: the wall clock; above: simulated time that fast while the system is quiescent.
    time_scale: float = 1.0
    state_dir: Path = field(default_factory=lambda: REPO_ROOT / ".receivables")
    region: str = REGION
    function_log_level: str | None = None  # overrides the template's POWERTOOLS_LOG_LEVEL
    # Time moves only on `advance` / `advance_to_next` (the demo and the tests' stories).
    stepped: bool = False
    clock: LocalClock = field(init=False)
    # How long a SEPA or ACH debit takes to settle on the local Stripe, on the runtime's clock.
    debit_settlement_seconds: int = 2 * 86400
    # The local Stripe pays the available balance out on the clock (two days after a charge).
    automatic_payouts: bool = True
    stack: Stack | None = None
    invoker: Invoker | None = None
    router: Router | None = None
    started_seconds: float = 0.0
    _server: Any = None
    _api: ApiServer | None = None
    _stripe: LocalStripe | None = None
    _login: ManagedLoginServer | None = None
    user_pool: LocalUserPool | None = None
    _time_origin: datetime | None = None

    def __post_init__(self) -> None:
        # Replaced at `start` (time starts then); until then the runtime's time is the wall's.
        self.clock = LocalClock(datetime.now(UTC), "real")

    @property
    def aws_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port_base}"

    @property
    def api_port(self) -> int:
        return DEFAULT_API_PORT if self.port_base == DEFAULT_PORT_BASE else self.port_base + 2

    @property
    def stripe_port(self) -> int:
        return DEFAULT_STRIPE_PORT if self.port_base == DEFAULT_PORT_BASE else self.port_base + 1

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def login_port(self) -> int:
        return self.port_base + 3

    @property
    def login_url(self) -> str:
        """The user pool's managed login (emulated: `receivables_local.login`)."""
        return f"http://127.0.0.1:{self.login_port}"

    @property
    def console_url(self) -> str:
        return f"{self.api_url}/console"

    @property
    def stripe_endpoint(self) -> str | None:
        """The local Stripe's base URL, while it runs."""
        return self._stripe.url if self._stripe is not None else None

    @property
    def api_endpoint(self) -> str | None:
        """The HTTP API's base URL, while an API function exists to serve."""
        return self._api.url if self._api is not None else None

    def start(self) -> None:
        """Start the emulator, create the stack, start the router; then write local.json."""
        started = time.perf_counter()
        for name, value in FAKE_CREDENTIALS.items():
            os.environ.setdefault(name, value)
        os.environ["AWS_DEFAULT_REGION"] = self.region
        # moto's Step Functions calls the Lambda API of "the moto server" for Task states.
        os.environ["MOTO_PORT"] = str(self.port_base)
        import boto3
        from moto.server import ThreadedMotoServer

        _quiet_emulator_logs()
        wall_now = datetime.now(UTC)
        self._time_origin = wall_now
        self.clock = LocalClock(wall_now, self.clock_mode, self.time_scale)
        shared_clock.share_clock(self.clock)
        base_env = {
            **FAKE_CREDENTIALS,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            shared_clock.LOCAL_CLOCK_VARIABLE: "local",
        }
        session = boto3.session.Session(region_name=self.region)
        self._stripe = LocalStripe(
            port=self.stripe_port,
            clock=lambda: self.clock.now().timestamp(),
            debit_settlement_seconds=self.debit_settlement_seconds,
            sweep=False,  # the clock fires its settlements, expiries and payouts
            # Stripe pays the balance out daily: payout.paid, and the bank statement's line
            automatic_payouts=self.automatic_payouts,
        )
        self._stripe.start()
        self._watch_stripe(self._stripe)
        # The official Stripe client of the functions, pointed at the local Stripe.
        overrides = {"STRIPE_API_BASE": self._stripe.url}
        if self.function_log_level:
            overrides["POWERTOOLS_LOG_LEVEL"] = self.function_log_level
        self.invoker = Invoker(base_environment=base_env, overrides=overrides)
        self.clock.add_probe("Lambda invocations", self.invoker.probe)
        self.router = Router(
            self.invoker, session, self.aws_endpoint, self.region, self.clock, time_scale=self.time_scale
        )
        moto_patches.install_runtime(self.router)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port_base, verbose=False)
        self._server.start()
        self._configure_emulator()
        template = load_template()
        self.user_pool = create_user_pool(session, template, self.aws_endpoint, self.region, self.api_url)
        self.stack = provision(
            session,
            self.aws_endpoint,
            self.region,
            self.api_url,
            self.user_pool.environment(self.login_url),
            self.user_pool.physical,
        )
        self._login = ManagedLoginServer(self.user_pool, session, self.login_port)
        self._login.start()
        self._set_local_secrets(session)
        self._verify_sender(session)
        for function in self.stack.functions.values():
            self.invoker.register(function)
        self.invoker.start()
        self.router.attach(self.stack)
        self.router.start()
        served = api_functions(self.stack.specs, self.stack.functions)
        if served:
            self._api = ApiServer(
                self.invoker,
                served,
                self.api_port,
                mailbox=self.mailbox,
                token=self._api_token,
                protected=protected_functions(self.stack.specs),
                verify=self._verify_pool_token,
            )
            self._api.start()
            self.clock.add_probe(self._api.in_flight.name, self._api.in_flight.probe)
            self._stripe.add_webhook_endpoint(
                f"{self._api.url}/webhooks/stripe", secret=self._webhook_secret, enabled_events=["*"]
            )
        self.clock.start()
        self.started_seconds = time.perf_counter() - started
        self._write_connection_file()

    @property
    def clock_mode(self) -> Mode:
        """``real``, ``paced`` (accelerated while quiescent) or ``stepped``."""
        if self.stepped:
            return "stepped"
        return "real" if self.time_scale == 1.0 else "paced"

    def wait_until(
        self,
        check: Callable[[], T | None],
        *,
        within: timedelta | None = None,
        timeout: float = 300.0,
        what: str = "the condition",
    ) -> T:
        """What ``check()`` returns once it is truthy, waiting for the system to get there.

        On a stepped clock: settle, check, step to the next scheduled thing (never more than
        ``within`` of simulated time from now), and again; so a story reacts to each thing as it
        happens, whatever the machine's speed. On a paced or real clock: check every few
        milliseconds while time runs on its own. TimeoutError (naming ``what``) once ``within``
        simulated time or ``timeout`` real seconds have passed without it."""
        deadline = time.monotonic() + timeout
        limit = self.clock.now() + within if within is not None else None
        while True:
            if self.clock.mode == "stepped":
                self.clock.wait_quiescent(max(0.0, deadline - time.monotonic()))
            found = check()
            if found:
                return found
            now = self.clock.now()
            if time.monotonic() > deadline or (limit is not None and now >= limit):
                raise TimeoutError(f"{what} did not happen by {now.isoformat()} (the runtime's time)")
            if self.clock.mode == "stepped":
                if self.clock.next_due() is None and limit is None:
                    raise TimeoutError(f"{what} did not happen, and nothing more is scheduled")
                self.advance_to_next(limit=limit, timeout=max(1.0, deadline - time.monotonic()))
            else:
                time.sleep(0.05)

    def _watch_stripe(self, stripe: LocalStripe) -> None:
        """The local Stripe's settlements, expiries and payouts are the clock's to fire; its webhooks and
        requests in flight keep time still."""

        def next_due() -> datetime | None:
            due = stripe.next_due()
            return datetime.fromtimestamp(due, UTC) if due is not None else None

        self.clock.add_source(TimerSource("local Stripe", next_due, lambda _: stripe.run_due()))
        self.clock.add_probe("local Stripe", stripe.probe)

    def advance(self, delta: timedelta, timeout: float | None = 300.0) -> datetime:
        """Move the runtime's time forward by ``delta`` (a paced or stepped clock), firing what
        falls due on the way, in order, and waiting for the work each firing sets off."""
        return self.clock.advance(delta, timeout=timeout)

    def advance_to_next(self, limit: datetime | None = None, timeout: float | None = 300.0) -> datetime:
        """Move time to the next scheduled thing (a schedule, a Wait state's end, a debit's
        settlement…), not past ``limit``, and wait for what it sets off; the new instant."""
        return self.clock.advance_to_next(limit=limit, timeout=timeout)

    def _set_local_secrets(self, session: Any) -> None:
        """The secrets a local client must know: the webhook signing secret is the one in
        local.json (and the local Stripe's), so a request signed with it verifies; the Stripe
        key is a test key of the local Stripe."""
        assert self.stack is not None
        client: Any = session.client
        manager = client("secretsmanager", endpoint_url=self.aws_endpoint, region_name=self.region)
        values = {"StripeWebhookSecret": self._webhook_secret, "StripeApiKey": self._stripe_api_key}
        for logical_id, value in values.items():
            if logical_id in self.stack.resources:
                manager.put_secret_value(SecretId=self.stack.resources[logical_id], SecretString=value)

    def _verify_sender(self, session: Any) -> None:
        """SES sends only from a verified identity: verify the mailer's sender, as the operator
        does once on AWS."""
        assert self.stack is not None
        mailer = self.stack.functions.get("MailerFunction")
        sender = mailer.environment.get("SENDER_EMAIL") if mailer else None
        if sender:
            client: Any = session.client
            ses = client("sesv2", endpoint_url=self.aws_endpoint, region_name=self.region)
            ses.create_email_identity(EmailIdentity=sender)

    def mailbox(self, start: int = 0) -> list[dict[str, Any]]:
        """Every email SES has sent (from the ``start``-th on), as LocalStack's
        ``GET /_aws/ses`` lists them."""
        from moto.ses.models import ses_backends

        messages = ses_backends[ACCOUNT][self.region].sent_messages[start:]
        return [_message_json(m, self.region) for m in messages]

    def _configure_emulator(self) -> None:
        import urllib.request

        request = urllib.request.Request(  # noqa: S310 - loopback, our own emulator
            f"{self.aws_endpoint}/moto-api/config",
            data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass

    def _verify_pool_token(self, token: str) -> dict[str, Any] | None:
        """The claims of an ID token of the local pool for the finance API's client (what the
        HTTP API's JWT authorizer checks on AWS: signature, issuer, audience, expiry), else None."""

        if self.user_pool is None:
            return None
        if self._api_login is None:
            pool = self.user_pool
            self._api_login = ManagedLogin(self.login_url, pool.api_client_id, pool.issuer, pool.jwks_url)
        try:
            claims: dict[str, Any] = self._api_login.verify_id_token(token)
            return claims
        except SignInError:
            return None

    _api_login: Any = None

    def stop(self) -> None:
        """Stop the router, let queued invocations finish, stop the emulator."""
        self.clock.stop()
        if self._api is not None:
            self._api.stop()
            self._api = None
        if self._login is not None:
            self._login.stop()
            self._login = None
        if self._stripe is not None:
            self._stripe.stop()
            self._stripe = None
        if self.router is not None:
            self.router.stop()
        if self.invoker is not None:
            self.invoker.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None
            # moto's backends live in the process: empty them, so that a next runtime in this
            # process (a test module after another) starts from nothing, as a new process would.
            from moto.moto_api._internal.models import moto_api_backend

            moto_api_backend.reset()

    def settle(self, timeout: float = 120.0) -> bool:
        """Wait until the system is quiescent: every event in flight delivered and handled (the
        local Stripe's webhooks, what they set off on the bus and streams, the executions between
        their states, the HTTP requests being answered); False if ``timeout`` seconds pass."""
        return self.clock.wait_quiescent(timeout)

    # --- the connection file ---------------------------------------------------------------
    @property
    def connection(self) -> dict[str, Any]:
        """The content of local.json (keys are an interface: add freely, rename none)."""
        assert self.stack is not None
        return {
            "region": self.region,
            "account": ACCOUNT,
            "endpoints": {
                "aws": self.aws_endpoint,
                **({"api": self.api_endpoint} if self.api_endpoint else {}),
                **({"stripe": self.stripe_endpoint} if self.stripe_endpoint else {}),
                **({"console": self.console_url, "login": self.login_url} if self.api_endpoint else {}),
            },
            "api_token": self._api_token,
            # The finance console's people, one per role: sign in at endpoints.console.
            "console_users": [u.to_json() for u in self.user_pool.users] if self.user_pool else [],
            **({"cognito": self.user_pool.connection(self.login_url)} if self.user_pool else {}),
            "stripe_webhook_secret": self._webhook_secret,
            "stripe_api_key": self._stripe_api_key,
            "credentials": {
                "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            },
            "resources": dict(sorted(self.stack.resources.items())),
            "time": {
                "scale": self.time_scale,
                "mode": self.clock_mode,
                "origin": self._time_origin.isoformat() if self._time_origin else None,
            },
            "state": "in memory; starts empty at every run",
            "pid": os.getpid(),
        }

    _api_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    _webhook_secret: str = field(default_factory=lambda: "whsec_" + secrets.token_urlsafe(24))
    _stripe_api_key: str = field(default_factory=lambda: "sk_test_" + secrets.token_urlsafe(24))

    @property
    def connection_file(self) -> Path:
        return self.state_dir / "local.json"

    def _write_connection_file(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        temporary = self.connection_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.connection, indent=2))
        temporary.chmod(0o600)  # it holds the local API token
        temporary.replace(self.connection_file)

    def banner(self) -> str:
        """A few lines that say where everything is."""
        assert self.stack is not None
        bucket = self.stack.resources.get("InvoiceBucket", "?")
        lines = [
            f"Receivables local runtime is up ({self.started_seconds:.1f} s).",
            f"  AWS emulator   {self.aws_endpoint}   (region {self.region}, any credentials)",
            f"  HTTP API       {self.api_endpoint or 'none yet (no API function in template.yaml)'}",
            f"  Stripe         {self.stripe_endpoint}   (test cards 4242…, …0002 declined, …0259 disputed)",
            f"  sent email     {self.api_endpoint}/_aws/ses",
            f"  console        {self.console_url}   (sign in as one of the users below)",
            *(
                f"    {user.role:<11}{user.username}   password {user.password}"
                for user in (self.user_pool.users if self.user_pool else [])
            ),
            f"  invoice inbox  s3://{bucket}/inbox/",
            f"  ledger table   {self.stack.resources.get('Table', '?')}",
            f"  functions      {', '.join(sorted(self.stack.functions))} (run in-process)",
            f"  time           {self._time_line()}",
            f"  connection     {self.connection_file}",
            "State is in memory and starts empty at every run. Ctrl-C stops.",
            f"Try: aws --endpoint-url {self.aws_endpoint} s3 cp samples/invoices.csv s3://{bucket}/inbox/",
        ]
        return "\n".join(lines)

    def _time_line(self) -> str:
        if self.clock_mode == "stepped":
            return "stepped (moves when the story advances it)"
        if self.clock_mode == "paced":
            return f"x{self.time_scale:g} while idle (stands still while work is pending)"
        return "real"


def _message_json(message: Any, region: str) -> dict[str, Any]:
    """One sent email in LocalStack's shape, with its parts decoded from the raw MIME."""
    import email
    from email import policy

    raw = getattr(message, "raw_data", None)
    if raw is None:  # a simple (non-raw) message
        return {
            "Id": message.id,
            "Region": region,
            "Source": message.source,
            "Destination": message.destinations,
            "Subject": message.subject,
            "Body": {"text_part": None, "html_part": message.body},
        }
    parsed = email.message_from_string(raw, policy=policy.default)
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    return {
        "Id": message.id,
        "Region": region,
        "Source": message.source,
        "Destination": {"ToAddresses": list(message.destinations)},
        "Subject": str(parsed["Subject"]),
        "Headers": {k: str(v) for k, v in parsed.items()},
        "Body": {
            "text_part": text.get_content() if text is not None else None,
            "html_part": html.get_content() if html is not None else None,
        },
        "RawData": raw,
    }
