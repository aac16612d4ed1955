"""The local stack without Cognito: the pool's resources left out, the functions' variables and
the parameters that name them given the local pool's values, any other reference a placeholder."""

from __future__ import annotations

from receivables_local.provision import _leave_out_cognito
from receivables_local.template import load_template, translate


def test_the_pool_is_left_out_and_the_console_gets_the_local_pools_values() -> None:
    cfn = translate(load_template(), "eu-west-1")
    values = {"COGNITO_ISSUER": "https://issuer", "FINANCE_USER_POOL_ID": "p1"}
    _leave_out_cognito(cfn, values, {"FinanceConsoleClient": "local-client", "FinanceUserPool": "p1"})
    resources = cfn["Resources"]
    assert not [r for r in resources.values() if r["Type"].startswith("AWS::Cognito::")]
    console = resources["ConsoleFunction"]["Properties"]["Environment"]["Variables"]
    assert console["COGNITO_ISSUER"] == "https://issuer" and console["FINANCE_USER_POOL_ID"] == "p1"
    assert console["CONSOLE_LOGIN_URL"] == ""  # no value given: empty, never a dangling reference
    # The console's client is read from the parameter the stack writes: the local client's id.
    assert resources["ConsoleClientIdParameter"]["Properties"]["Value"] == "local-client"
    text = str(resources)
    for name in ("FinanceUserPool", "FinanceConsoleClient", "FinanceLoginDomain"):
        assert f"'Ref': '{name}'" not in text and f"['{name}'," not in text
