"""The `receivables` command: `receivables local` runs the system on loopback, `receivables demo`
tells its story."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `receivables` console script."""
    from receivables_local.runtime import DEFAULT_PORT_BASE

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
        command.add_argument(
            "--time-scale",
            type=_positive,
            default=1.0,
            help="simulated seconds per real second (86400: a day a second)",
        )
        command.add_argument("--state-dir", type=Path, default=None, help="where local.json is written")
    demo.set_defaults(time_scale=86400.0)
    args = parser.parse_args(argv)
    if args.command == "local":
        return run_local(args)
    from receivables_local.demo import run_demo

    return run_demo(
        sys.stdout, port_base=args.port_base, time_scale=args.time_scale, state_dir=args.state_dir
    )


def run_local(args: Any) -> int:
    """Run until SIGINT or SIGTERM, then stop everything cleanly."""
    from receivables_local.runtime import LocalRuntime

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


if __name__ == "__main__":
    raise SystemExit(main())
