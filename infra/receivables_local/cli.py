"""The `receivables` command: `receivables local` runs the system on loopback, `receivables demo`
tells its story, `receivables reconcile` says whether the books balance."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from receivables.reporting.reconcile import reconcile
from receivables.storage import store
from receivables_local.demo.story import run_demo
from receivables_local.functions import REPO_ROOT
from receivables_local.runtime import DEFAULT_PORT_BASE, LocalRuntime


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `receivables` console script."""
    parser = argparse.ArgumentParser(
        prog="receivables", description="Receivables on the embedded local runtime."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser("local", help="run the whole system on loopback until Ctrl-C or SIGTERM")
    demo = commands.add_parser("demo", help="start the runtime, drop the sample invoices, tell what happened")
    for command in (local, demo):
        command.add_argument(
            "--port-base", type=int, default=DEFAULT_PORT_BASE, help="first port; the services use N, N+1, …"
        )
        command.add_argument("--state-dir", type=Path, default=None, help="where local.json is written")
    local.add_argument(
        "--time-scale",
        type=_positive,
        default=1.0,
        help="simulated seconds per real second while the system is idle (86400: a day a second); "
        "time stands still while work is pending",
    )
    reconcile = commands.add_parser(
        "reconcile",
        help="check that the books balance (exit 1 when anything does not)",
        description=(
            "Check the whole ledger table: money in = allocated + unapplied + refunded, every invoice's "
            "balance, every allocation's customer, the aging aggregates, every version's audit event. "
            "Reads the table of `receivables local` (local.json) unless --table is given. Run it when "
            "the stream has caught up (the local runtime idle): the aggregates follow it."
        ),
    )
    reconcile.add_argument(
        "--state-dir", type=Path, default=None, help="where local.json is (default .receivables)"
    )
    reconcile.add_argument(
        "--table", default=None, help="the table's name (default: resources.Table of local.json)"
    )
    reconcile.add_argument(
        "--endpoint", default=None, help="DynamoDB endpoint URL (default: endpoints.aws of local.json)"
    )
    reconcile.add_argument("--region", default=None, help="AWS region (default: region of local.json)")
    reconcile.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.command == "local":
        return run_local(args)
    if args.command == "reconcile":
        return run_reconcile(args, sys.stdout)
    return run_demo(sys.stdout, port_base=args.port_base, state_dir=args.state_dir)


def run_local(args: Any) -> int:
    """Run until SIGINT or SIGTERM, then stop everything cleanly."""
    runtime = LocalRuntime(port_base=args.port_base, time_scale=args.time_scale)
    if args.state_dir is not None:
        runtime.state_dir = args.state_dir
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    runtime.start()
    print(runtime.banner(), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        print("Stopping…", flush=True)
        runtime.stop()
        runtime.connection_file.unlink(missing_ok=True)
    return 0


def run_reconcile(args: Any, out: TextIO) -> int:
    """Reconcile the table ``args`` names (or the local runtime's) and print the report: each
    break with the items involved, a summary line per check and per currency. Exit code 0 when the
    books balance, 1 when anything does not, 2 when there is no table to read."""
    connection: dict[str, Any] = {}
    path = (args.state_dir or REPO_ROOT / ".receivables") / "local.json"
    if args.table is None or args.endpoint is None or args.region is None:
        if not path.exists():
            if args.table is None:
                print(f"no {path}: start `receivables local`, or give --table", file=sys.stderr)
                return 2
        else:
            connection = json.loads(path.read_text())
    table = args.table or connection.get("resources", {}).get("Table")
    endpoint = args.endpoint or connection.get("endpoints", {}).get("aws")
    region = args.region or connection.get("region") or os.environ.get("AWS_REGION") or "us-east-1"
    if not table:
        print(f"{path} names no table (resources.Table): give --table", file=sys.stderr)
        return 2
    for name, value in connection.get("credentials", {}).items():
        os.environ.setdefault(name.upper(), value)  # the local emulator takes any credentials
    store.bind(table, region, endpoint)
    report = reconcile()
    if args.json:
        print(json.dumps(report.to_json(), indent=2), file=out)
    else:
        heading = f"Reconciliation of {table}" + (f" at {endpoint}" if endpoint else "")
        print("\n".join(report.text_lines(heading)), file=out)
    return 0 if report.clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
