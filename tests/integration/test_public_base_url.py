"""Where customer links point: the environment's URL, or the parameter the stack writes."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from receivables.adapters import parameters
from receivables.adapters.parameters import public_base_url
from receivables.mail.mailer import MailSettings


@pytest.fixture
def ssm() -> object:
    with mock_aws():
        client = boto3.client("ssm", region_name="eu-west-1")
        client.put_parameter(Name="/ar/public-base-url", Value="https://pay.example.com/", Type="String")
        yield client


def test_the_stack_parameter_gives_the_url_when_the_environment_does_not(
    ssm: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    env = {"SENDER_EMAIL": "billing@example.com", "PUBLIC_BASE_URL_PARAMETER": "/ar/public-base-url"}

    assert public_base_url(env) == "https://pay.example.com"
    assert MailSettings.from_env(env).public_base_url == "https://pay.example.com"


def test_the_environment_wins_and_nothing_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def unread(name: str) -> str:
        raise AssertionError(f"read {name}")

    monkeypatch.setattr(parameters, "parameter_text", unread)
    env = {"PUBLIC_BASE_URL": "http://127.0.0.1:3000/", "PUBLIC_BASE_URL_PARAMETER": "/ar/public-base-url"}

    assert public_base_url(env) == "http://127.0.0.1:3000"


def test_neither_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="PUBLIC_BASE_URL_PARAMETER"):
        public_base_url({})
