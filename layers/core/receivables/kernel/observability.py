"""The one Logger and Metrics of a function, and its Tracer when it wants X-Ray subsegments.

Service name and namespace come from POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE.

The Tracer is built on first use, not at import: Powertools' Tracer imports the X-Ray SDK, whose
recorder creates two botocore clients while it is imported (about 140 ms, more than importing
boto3 itself). Every function has Lambda's active tracing (template.yaml), which records its
segments without the SDK; a function whose traces need subsegments calls `tracer()` and pays for
them knowingly.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger()
metrics = Metrics(namespace="Receivables")


@cache
def tracer() -> Tracer:
    """The function's Tracer (imports the X-Ray SDK on first call)."""
    from aws_lambda_powertools import Tracer

    return Tracer()
