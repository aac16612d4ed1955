"""The `receivables` command."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `receivables` console script."""
    parser = argparse.ArgumentParser(
        prog="receivables", description="Receivables on the embedded local runtime."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="ingest the sample invoices on the embedded AWS and print what happened")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from receivables_local.demo import run_demo

        return run_demo(sys.stdout)
    parser.error(f"unknown command {args.command}")


if __name__ == "__main__":
    raise SystemExit(main())
