"""template.yaml against the code: handlers, table schema, layer dependencies, names, triggers."""

from __future__ import annotations

import ast
import re
import tomllib
from graphlib import TopologicalSorter
from typing import Any

import pytest

from receivables.ingest.service import INBOX
from receivables.kernel.settings import Settings
from receivables.storage.records import LedgerRecord
from receivables_local.template import functions, load_template, translate
from tests.conftest import REPO_ROOT

TEMPLATE = load_template()
FUNCTIONS = functions(TEMPLATE)


def test_sam_translates_the_template_offline() -> None:
    cfn = translate(TEMPLATE)
    kinds = {r["Type"] for r in cfn["Resources"].values()}
    assert {"AWS::Lambda::Function", "AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::Events::Rule"} <= kinds
    lambdas = [r for r in cfn["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(lambdas) == len(FUNCTIONS) >= 2


def _names(value: Any) -> set[str]:
    """The logical ids a property value refers to: Ref, Fn::GetAtt and ${…} in Fn::Sub."""
    if isinstance(value, list):
        return set().union(*map(_names, value)) if value else set()
    if not isinstance(value, dict):
        return set()
    found: set[str] = set()
    for key, inner in value.items():
        if key == "Ref" and isinstance(inner, str):
            found.add(inner)
        elif key == "Fn::GetAtt":
            found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
        elif key == "Fn::Sub":
            text, variables = (inner, {}) if isinstance(inner, str) else (inner[0], inner[1])
            found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)} - set(variables)
            found |= _names(variables)
        else:
            found |= _names(inner)
    return found


def test_the_translated_stack_has_no_circular_dependency() -> None:
    """CloudFormation refuses a stack whose resources depend on each other in a circle (the HTTP
    API names its functions: a function's environment naming the API back is one)."""
    resources = translate(TEMPLATE)["Resources"]
    graph = {}
    for logical_id, resource in resources.items():
        depends = resource.get("DependsOn", [])
        named = _names(resource.get("Properties", {})) | set(_as_list(depends))
        graph[logical_id] = named & set(resources)
    TopologicalSorter(graph).prepare()  # raises CycleError naming the circle


def test_who_reads_the_public_url_may_read_its_parameter_and_only_that() -> None:
    readers = [f for f in FUNCTIONS.values() if "PUBLIC_BASE_URL_PARAMETER" in f.environment]
    assert {f.logical_id for f in readers} >= {"MailerFunction", "PayFunction", "FinanceApiFunction"}
    for spec in readers:
        assert "PUBLIC_BASE_URL" not in spec.environment, spec.logical_id
        policies = TEMPLATE["Resources"][spec.logical_id]["Properties"]["Policies"]
        reads = [
            p["SSMParameterReadPolicy"]
            for p in policies
            if isinstance(p, dict) and "SSMParameterReadPolicy" in p
        ]
        public_url = {"ParameterName": {"Fn::Sub": "${AWS::StackName}/public-base-url"}}
        # The console also reads its app client's id (a parameter for the same cycle's sake).
        client_id = {"ParameterName": {"Fn::Sub": "${AWS::StackName}/console-client-id"}}
        allowed = [public_url, client_id] if spec.logical_id == "ConsoleFunction" else [public_url]
        assert reads == allowed, spec.logical_id
    parameter = TEMPLATE["Resources"]["PublicBaseUrlParameter"]["Properties"]
    assert parameter["Name"] == {"Fn::Sub": "/${AWS::StackName}/public-base-url"}


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_handler_the_template_names_exists(logical_id: str) -> None:
    spec = FUNCTIONS[logical_id]
    module_name, _, attribute = spec.handler.rpartition(".")
    source = REPO_ROOT / spec.code_dir / f"{module_name}.py"
    assert source.is_file(), f"{logical_id}: {source} is missing"
    tree = ast.parse(source.read_text())
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    # A Chalice app is its own handler: ``app = Chalice(...)``, Handler: app.app.
    assigned = {
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    assert attribute in defined | assigned, f"{logical_id}: {source} defines no {attribute}"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_function_gets_the_settings_it_parses(logical_id: str) -> None:
    parameters = TEMPLATE.get("Parameters", {})

    def value(raw: Any) -> str:
        # A !Ref to a parameter is the parameter's default; any other reference, a name.
        if isinstance(raw, dict) and raw.get("Ref") in parameters:
            return str(parameters[raw["Ref"]].get("Default", "x"))
        return raw if isinstance(raw, str) else "x"

    env = {k: value(v) for k, v in FUNCTIONS[logical_id].environment.items()}
    Settings.from_env(env)
    assert env["POWERTOOLS_SERVICE_NAME"]


def test_the_layer_ships_the_runtime_dependencies_of_pyproject() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    lines = (REPO_ROOT / "layers/core/requirements.txt").read_text().splitlines()
    shipped = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert shipped == pyproject["project"]["dependencies"]


def test_every_chalice_app_ships_with_the_chalice_runtime_pyproject_pins() -> None:
    resources = TEMPLATE["Resources"]
    for logical_id, spec in resources.items():
        if spec["Type"] != "AWS::Serverless::Function":
            continue
        source = (REPO_ROOT / spec["Properties"]["CodeUri"] / "app.py").read_text()
        layers = spec["Properties"].get("Layers", [])
        uses_chalice = "from chalice" in source or "import chalice" in source
        assert uses_chalice == ({"Ref": "ChaliceRuntimeLayer"} in layers), logical_id
    pinned = re.search(r"^CHALICE := (\S+)$", (REPO_ROOT / "layers/chalice/Makefile").read_text(), re.M)
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert pinned and pinned.group(1) in pyproject["project"]["optional-dependencies"]["dev"]
    assert resources["ChaliceRuntimeLayer"]["Metadata"]["BuildMethod"] == "makefile"


def _table() -> dict[str, Any]:
    return dict(TEMPLATE["Resources"]["Table"]["Properties"])


def test_the_table_in_the_template_is_the_one_the_records_describe() -> None:
    schema = LedgerRecord._get_schema()
    table = _table()

    def keys(key_schema: Any) -> list[tuple[str, str]]:
        return sorted((k["AttributeName"], k["KeyType"]) for k in key_schema)

    assert keys(table["KeySchema"]) == keys(schema["key_schema"])
    assert sorted(map(tuple, (d.values() for d in table["AttributeDefinitions"]))) == sorted(
        map(tuple, (d.values() for d in schema["attribute_definitions"]))
    )
    template_indexes = {
        i["IndexName"]: (keys(i["KeySchema"]), i["Projection"]) for i in table["GlobalSecondaryIndexes"]
    }
    record_indexes = {
        i["index_name"]: (keys(i["key_schema"]), i["projection"]) for i in schema["global_secondary_indexes"]
    }
    assert template_indexes == record_indexes
    assert table["StreamSpecification"]["StreamViewType"] == LedgerRecord.Meta.stream_view_type
    assert table["BillingMode"] == LedgerRecord.Meta.billing_mode


def test_the_table_is_protected() -> None:
    table = _table()
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert TEMPLATE["Resources"]["Table"]["DeletionPolicy"] == "Retain"


def test_the_bucket_is_private_encrypted_versioned_and_tls_only() -> None:
    bucket = TEMPLATE["Resources"]["InvoiceBucket"]["Properties"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    statement = TEMPLATE["Resources"]["InvoiceBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_ingest_is_triggered_for_objects_under_the_inbox_only() -> None:
    event = FUNCTIONS["IngestFunction"].events["InvoiceFileCreated"]
    pattern = event["Properties"]["Pattern"]
    assert pattern["detail"]["object"]["key"] == [{"prefix": INBOX}]
    assert event["Properties"]["DeadLetterConfig"]
    ingest = TEMPLATE["Resources"]["IngestFunction"]["Properties"]
    assert ingest["DeadLetterQueue"]["Type"] == "SQS"


def test_ingest_may_touch_only_its_prefixes() -> None:
    statements = TEMPLATE["Resources"]["IngestFunction"]["Properties"]["Policies"][0]["Statement"]
    s3_resources = [
        r["Fn::Sub"] for s in statements if s["Action"][0].startswith("s3:") for r in _as_list(s["Resource"])
    ]
    assert sorted(s3_resources) == [
        "${InvoiceBucket.Arn}/inbox/*",
        "${InvoiceBucket.Arn}/processed/*",
        "${InvoiceBucket.Arn}/rejected/*",
    ]
    actions = {a for s in statements for a in s["Action"]}
    assert "dynamodb:Scan" not in actions and "s3:*" not in actions


def test_the_publisher_reads_only_audit_event_inserts_and_has_a_failure_destination() -> None:
    stream = FUNCTIONS["PublisherFunction"].events["LedgerStream"]["Properties"]
    assert '"kind": {"S": ["event"]}' in stream["FilterCriteria"]["Filters"][0]["Pattern"]
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stream["DestinationConfig"]["OnFailure"]["Destination"]


def test_no_resource_has_a_fixed_name() -> None:
    fixed = {
        "BucketName",
        "TableName",
        "FunctionName",
        "QueueName",
        "RoleName",
        "TopicName",
        "StateMachineName",
    }
    for logical_id, resource in TEMPLATE["Resources"].items():
        named = fixed & set(resource.get("Properties", {}))
        assert not named, f"{logical_id} has a fixed {named}"
    assert TEMPLATE["Resources"]["EventBus"]["Properties"]["Name"] == {
        "Fn::Sub": "${AWS::StackName}-receivables"
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


PUBLIC_FUNCTIONS = {"PayFunction", "StripeWebhookFunction"}  # a signed link, a Stripe-Signature
# A browser carries a session cookie, not a bearer token: the console checks its own sessions,
# opened by the user pool's managed login (receivables.web.console.auth).
SESSION_FUNCTIONS = {"ConsoleFunction"}


def test_every_finance_route_has_the_authorizer_and_only_the_public_functions_go_without() -> None:
    # checkov's CKV_AWS_309 is skipped for the whole HTTP API (the public routes need it); this
    # is the check per route that the skip gives up: a finance route that lost its authorizer
    # would be open to the internet.
    unauthenticated: dict[str, list[str]] = {}
    for logical_id, resource in TEMPLATE["Resources"].items():
        for name, trigger in (resource.get("Properties", {}).get("Events") or {}).items():
            if trigger["Type"] != "HttpApi":
                continue
            authorizer = (trigger["Properties"].get("Auth") or {}).get("Authorizer")
            if authorizer is None:
                unauthenticated.setdefault(logical_id, []).append(name)
            else:
                assert authorizer == "FinanceUsers", (logical_id, name)
    assert set(unauthenticated) == PUBLIC_FUNCTIONS | SESSION_FUNCTIONS
    finance = TEMPLATE["Resources"]["FinanceApiFunction"]["Properties"]["Events"]
    assert all(e["Properties"]["Auth"]["Authorizer"] == "FinanceUsers" for e in finance.values())


def test_the_internet_facing_functions_cannot_write_money_or_policy() -> None:
    statements = [
        s
        for policy in TEMPLATE["Resources"]["PayFunction"]["Properties"]["Policies"]
        if isinstance(policy, dict) and "Statement" in policy
        for s in policy["Statement"]
    ]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    refused = set(deny["Condition"]["ForAnyValue:StringLike"]["dynamodb:LeadingKeys"])
    assert {"PAY#*", "CN#*", "POLICY#*", "APPROVAL#*", "DEDUCTION#*", "CREDIT#*"} <= refused
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} <= set(deny["Action"])
    for resource in PUBLIC_FUNCTIONS:
        reserved = TEMPLATE["Resources"][resource]["Properties"]["ReservedConcurrentExecutions"]
        assert "ReservesPublicConcurrency" in str(reserved), resource


def test_the_access_log_never_records_a_path_where_link_tokens_live() -> None:
    log_format = TEMPLATE["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]["Format"]
    assert "$context.path" not in log_format and "$context.routeKey" in log_format


def test_finance_users_need_a_second_factor_and_threat_protection() -> None:
    pool = TEMPLATE["Resources"]["FinanceUserPool"]["Properties"]
    assert pool["MfaConfiguration"] == "ON" and pool["UserPoolAddOns"]["AdvancedSecurityMode"] == "ENFORCED"


def test_the_console_signs_in_with_pkce_and_cannot_write_policy_or_approve() -> None:
    client = TEMPLATE["Resources"]["FinanceConsoleClient"]["Properties"]
    assert client["AllowedOAuthFlows"] == ["code"] and client["GenerateSecret"] is False
    assert all("/console/callback" in str(url) for url in _as_list(client["CallbackURLs"]))
    console = TEMPLATE["Resources"]["ConsoleFunction"]["Properties"]
    statements = [
        s for p in console["Policies"] if isinstance(p, dict) and "Statement" in p for s in p["Statement"]
    ]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    refused = set(deny["Condition"]["ForAnyValue:StringLike"]["dynamodb:LeadingKeys"])
    assert {"POLICY#*", "APPROVAL#*"} <= refused
    (delete,) = [s for s in statements if s["Effect"] == "Allow" and "dynamodb:DeleteItem" in s["Action"]]
    assert delete["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["CONSOLE#*"]
    assert "ReservesPublicConcurrency" in str(console["ReservedConcurrentExecutions"])
