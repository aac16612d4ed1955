"""Shared test setup: fake AWS credentials for the whole session, before any client exists."""

from __future__ import annotations

import os
from pathlib import Path

from receivables_local.aws import FAKE_CREDENTIALS

for _name, _value in FAKE_CREDENTIALS.items():
    os.environ[_name] = _value
os.environ["AWS_DEFAULT_REGION"] = "eu-west-1"
os.environ["AWS_REGION"] = "eu-west-1"
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Receivables")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "tests")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

REPO_ROOT = Path(__file__).resolve().parents[1]
EINVOICES = REPO_ROOT / "tests" / "fixtures" / "einvoices"
SAMPLES = REPO_ROOT / "samples"
