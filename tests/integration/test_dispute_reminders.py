"""Finance's reminders and the escalation to the manager, on the accelerated clock: the waiting
task's 48-hour timeout passes in two seconds (one simulated day a second)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest

from receivables import store
from receivables.disputes.model import Status
from receivables_local.demo import free_port_base
from receivables_local.runtime import LocalRuntime
from tests.integration.test_dispute_workflow import api, inv, wait_for
from tests.integration.test_disputes import LEDGER

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.xdist_group("accelerated_runtime")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    local = LocalRuntime(port_base=free_port_base(), time_scale=86400.0, function_log_level="ERROR")
    local.state_dir = tmp_path_factory.mktemp("reminders")
    local.start()
    assert local.stack is not None
    store.bind(local.stack.resources["Table"], local.region, local.aws_endpoint)
    s3: Any = boto3.client("s3", endpoint_url=local.aws_endpoint, region_name=local.region)
    s3.put_object(Bucket=local.stack.resources["InvoiceBucket"], Key="inbox/disputes.json", Body=LEDGER)
    local.settle()
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
