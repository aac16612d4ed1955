"""The demo's last chapter: do the books balance?"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from receivables.reporting.reconcile import reconcile

if TYPE_CHECKING:
    from receivables_local.runtime import LocalRuntime


def reconciliation_chapter(runtime: LocalRuntime, out: TextIO, number: int) -> bool:
    """The story's last word: `receivables reconcile` over the whole table once the runtime is
    idle (the aggregates follow the stream). A break is a bug, printed with its items, and the
    demo exits 1. Returns whether the books balance."""
    print(f"\n{number}. Do the books balance? (receivables reconcile, once the runtime is idle)", file=out)
    runtime.settle()
    report = reconcile()
    print("\n".join(report.text_lines(indent=" ")), file=out)
    return report.clean
