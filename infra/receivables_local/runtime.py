"""`receivables local`: the whole system on loopback, in one process.

- the AWS emulator: moto's ThreadedMotoServer on 127.0.0.1:<port base> (4566 by default), with
  the local runtime's adapters installed (receivables_local.moto_patches);
- the stack created from template.yaml (receivables_local.provision);
- the event router and the in-process Lambda invoker (receivables_local.router, .invoker);
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
from typing import TYPE_CHECKING, Any

from receivables.clock import Clock, ScaledClock, SystemClock
from receivables_local.api import ApiServer, api_functions
from receivables_local.aws import FAKE_CREDENTIALS
from receivables_local.functions import REPO_ROOT
from receivables_local.invoker import Invoker
from receivables_local.provision import Stack, provision
from receivables_local.router import Router

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger("receivables.local")

DEFAULT_PORT_BASE = 4566
# The customary ports: moto/LocalStack 4566, stripe-mock 12111, sam local 3000. With any other
# --port-base N the services take N (AWS), N+1 (Stripe), N+2 (HTTP API).
DEFAULT_STRIPE_PORT = 12111
DEFAULT_API_PORT = 3000
REGION = "eu-west-1"
ACCOUNT = "123456789012"


def _quiet_emulator_logs() -> None:
    """moto warns about each template resource it has no CloudFormation model for (policies,
    alarms, EventInvokeConfig): known, harmless locally, and not news at every start."""
    import warnings

    warnings.filterwarnings("ignore", message="Tried to parse .* but it's not supported by moto")
    logging.getLogger("moto").setLevel(logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


@dataclass
class LocalRuntime:
    """Start with `start`, stop with `stop`; `connection` is what local.json holds."""

    port_base: int = DEFAULT_PORT_BASE
    time_scale: float = 1.0
    state_dir: Path = field(default_factory=lambda: REPO_ROOT / ".receivables")
    region: str = REGION
    function_log_level: str | None = None  # overrides the template's POWERTOOLS_LOG_LEVEL
    clock: Clock = field(default_factory=SystemClock)
    stack: Stack | None = None
    invoker: Invoker | None = None
    router: Router | None = None
    started_seconds: float = 0.0
    _server: Any = None
    _api: ApiServer | None = None
    _time_origin: datetime | None = None

    @property
    def aws_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port_base}"

    @property
    def api_port(self) -> int:
        return DEFAULT_API_PORT if self.port_base == DEFAULT_PORT_BASE else self.port_base + 2

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
        import boto3
        from moto.server import ThreadedMotoServer

        from receivables_local import moto_patches

        _quiet_emulator_logs()
        wall_now = datetime.now(UTC)
        self._time_origin = wall_now
        if self.time_scale != 1.0:
            self.clock = ScaledClock(wall_now, self.time_scale, wall_origin=wall_now)
        base_env = {
            **FAKE_CREDENTIALS,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            "RECEIVABLES_TIME_SCALE": str(self.time_scale),
            "RECEIVABLES_TIME_ORIGIN": wall_now.isoformat(),
            "RECEIVABLES_TIME_ORIGIN_WALL": wall_now.isoformat(),
        }
        session = boto3.session.Session(region_name=self.region)
        overrides = {"POWERTOOLS_LOG_LEVEL": self.function_log_level} if self.function_log_level else {}
        self.invoker = Invoker(base_environment=base_env, overrides=overrides)
        self.router = Router(
            self.invoker, session, self.aws_endpoint, self.region, self.clock, time_scale=self.time_scale
        )
        moto_patches.install_runtime(self.router)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port_base, verbose=False)
        self._server.start()
        self._configure_emulator()
        self.stack = provision(session, self.aws_endpoint, self.region)
        self._set_local_secrets(session)
        for function in self.stack.functions.values():
            self.invoker.register(function)
        self.invoker.start()
        self.router.attach(self.stack)
        self.router.start()
        served = api_functions(self.stack.specs, self.stack.functions)
        if served:
            self._api = ApiServer(self.invoker, served, self.api_port)
            self._api.start()
        self.started_seconds = time.perf_counter() - started
        self._write_connection_file()

    def _set_local_secrets(self, session: Any) -> None:
        """The secrets a local client must know: the webhook signing secret is the one in
        local.json, so a request signed with it verifies."""
        assert self.stack is not None
        secret = self.stack.resources.get("StripeWebhookSecret")
        if secret:
            client: Any = session.client
            secrets = client("secretsmanager", endpoint_url=self.aws_endpoint, region_name=self.region)
            secrets.put_secret_value(SecretId=secret, SecretString=self._webhook_secret)

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

    def stop(self) -> None:
        """Stop the router, let queued invocations finish, stop the emulator."""
        if self._api is not None:
            self._api.stop()
            self._api = None
        if self.router is not None:
            self.router.stop()
        if self.invoker is not None:
            self.invoker.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def settle(self, timeout: float = 120.0) -> bool:
        """Wait until every event in flight has been delivered and handled."""
        return self.router.settle(timeout) if self.router is not None else True

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
            },
            "api_token": self._api_token,
            "stripe_webhook_secret": self._webhook_secret,
            "credentials": {
                "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            },
            "resources": dict(sorted(self.stack.resources.items())),
            "time": {
                "scale": self.time_scale,
                "origin": self._time_origin.isoformat() if self._time_origin else None,
            },
            "state": "in memory; starts empty at every run",
            "pid": os.getpid(),
        }

    _api_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    _webhook_secret: str = field(default_factory=lambda: "whsec_" + secrets.token_urlsafe(24))

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
            f"  invoice inbox  s3://{bucket}/inbox/",
            f"  ledger table   {self.stack.resources.get('Table', '?')}",
            f"  functions      {', '.join(sorted(self.stack.functions))} (run in-process)",
            f"  time           x{self.time_scale:g}" + (" (accelerated)" if self.time_scale != 1 else ""),
            f"  connection     {self.connection_file}",
            "State is in memory and starts empty at every run. Ctrl-C stops.",
            f"Try: aws --endpoint-url {self.aws_endpoint} s3 cp samples/invoices.csv s3://{bucket}/inbox/",
        ]
        return "\n".join(lines)
