"""Finance's reminders and the escalation to the manager, on the accelerated clock: the waiting
task's 48-hour timeout passes in two seconds (one simulated day a second)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from receivables.ledger.disputes import Status
from receivables.storage import store
from tests.conftest import store_bound_to
from tests.integration.test_dispute_workflow import api, inv, ledger_runtime, wait_for

if TYPE_CHECKING:
    from collections.abc import Iterator

    from receivables_local.runtime import LocalRuntime

pytestmark = pytest.mark.xdist_group("accelerated_runtime")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    local = ledger_runtime(tmp_path_factory.mktemp("reminders"), 86400.0)
    with store_bound_to(local):
        yield local
    local.stop()


def test_finance_is_reminded_then_the_manager_is_told_and_a_late_decision_still_lands(
    runtime: LocalRuntime,
) -> None:
    status, opened = api(runtime, "POST", f"/invoices/{inv('D-3')}/disputes", {"reason": "quality"})
    assert status == 201, opened
    dispute_id = opened["dispute"]["dispute_id"]

    def history() -> list[Any]:
        return store.audit_events(store.dispute_pk(dispute_id))

    escalated = wait_for(lambda: next((e for e in history() if e.type == "DisputeEscalated"), None), 60)
    kinds = [e.type for e in history()]
    assert kinds[:3] == ["DisputeOpened", "DisputeAnalysed", "DisputeAwaitingFinance"]
    assert kinds.count("FinanceReminded") == 2, "two reminders, then the manager"
    assert escalated.data["to"] == "finance-managers" and escalated.data["reminder"] == 3
    waiting = store.get_dispute(dispute_id)
    assert waiting is not None and waiting.status is Status.AWAITING_FINANCE and waiting.task_token

    decided, _ = api(
        runtime, "POST", f"/disputes/{dispute_id}/decision", {"decision": "reject", "reason": "as agreed"}
    )
    assert decided == 202
    ended = wait_for(lambda: (d := store.get_dispute(dispute_id)) is not None and d.final and d, 60)
    assert ended.status is Status.REJECTED
