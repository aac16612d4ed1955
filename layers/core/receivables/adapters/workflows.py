"""Step Functions: handing a waiting task its answer (a dispute's decision to its workflow)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from receivables.kernel.errors import ConflictError

if TYPE_CHECKING:
    from collections.abc import Callable


class WorkflowMovedOnError(ConflictError):
    """The task no longer waits for this token (it timed out, or another answer came first)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"the workflow moved on ({code}): send the answer again")
        self.code = code


def send_task_success(send: Callable[..., Any], token: str, output: dict[str, Any]) -> None:
    """Answer the task waiting on ``token`` with ``output`` (``send`` is a Step Functions client's
    ``send_task_success``); `WorkflowMovedOnError` when the task no longer waits for it."""
    try:
        send(taskToken=token, output=json.dumps(output))
    except ClientError as exc:
        raise WorkflowMovedOnError(exc.response.get("Error", {}).get("Code", "")) from None
