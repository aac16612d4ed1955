"""Creating the local stack from template.yaml itself: SAM → CloudFormation → moto.

There is no second list of resources: whatever template.yaml declares, moto's CloudFormation
creates. Two things moto's CloudFormation drops are re-applied here from the same template, each
through the service's own API: a bucket's NotificationConfiguration (S3 → EventBridge), and a
state machine's DefinitionSubstitutions (resolved into its definition).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from receivables_local.aws import LOCAL_CONFIG
from receivables_local.functions import REPO_ROOT
from receivables_local.invoker import LocalFunction
from receivables_local.template import LOCAL_CODE_BUCKET, FunctionSpec, functions, load_template, translate

if TYPE_CHECKING:
    import boto3

STACK_NAME = "receivables-local"


@dataclass(slots=True)
class Stack:
    """What the local stack holds: each logical id of template.yaml and its local name or ARN."""

    name: str
    resources: dict[str, str] = field(default_factory=dict)  # logical id → physical id
    types: dict[str, str] = field(default_factory=dict)  # logical id → resource type
    functions: dict[str, LocalFunction] = field(default_factory=dict)  # by logical id
    specs: dict[str, FunctionSpec] = field(default_factory=dict)  # as template.yaml declares them
    stream_sources: list[dict[str, Any]] = field(default_factory=list)  # event source mappings
    outputs: dict[str, str] = field(default_factory=dict)


# The stack's parameters on the local runtime, beside the template's defaults: the accounts a
# customer paying by transfer is shown (test account numbers, not a real bank account); no daily
# reconciliation (at a day a second it would read the whole table every second, mid-story:
# `receivables reconcile` runs it once the runtime is idle).
LOCAL_PARAMETERS = {
    "ReconciliationSchedule": "DISABLED",
    "BankAccounts": json.dumps(
        {
            "EUR": "IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX",
            "USD": "ACH routing 110000000, account 000123456789",
        }
    ),
}


def provision(
    session: boto3.session.Session,
    endpoint: str,
    region: str,
    api_url: str = "http://127.0.0.1:3000",
    cognito_environment: dict[str, str] | None = None,
    cognito_resources: dict[str, str] | None = None,
) -> Stack:
    """Create the stack on the emulator at ``endpoint`` and return what it made; ``api_url`` is
    where the runtime serves the HTTP API (the functions' URL of it); ``cognito_environment``,
    the values of the functions' variables that name the user pool's resources (the runtime
    creates the pool itself: `receivables_local.cognito`)."""
    template = load_template()
    cfn = translate(template, region)
    _inline_state_machine_definitions(cfn)
    _leave_out_api_gateway(cfn, api_url)
    _leave_out_cognito(cfn, cognito_environment or {}, cognito_resources or {})

    def client(service: str) -> Any:
        factory: Any = session.client
        return factory(service, endpoint_url=endpoint, region_name=region, config=LOCAL_CONFIG)

    _upload_code(cfn, client("s3"), region)
    cloudformation = client("cloudformation")
    cloudformation.create_stack(
        StackName=STACK_NAME,
        TemplateBody=json.dumps(cfn),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in LOCAL_PARAMETERS.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    stack = Stack(STACK_NAME)
    description = cloudformation.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    if description["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(
            f"the local stack is {description['StackStatus']}: {description.get('StackStatusReason')}"
        )
    stack.outputs = {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}
    paginator = cloudformation.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=STACK_NAME):
        for resource in page["StackResourceSummaries"]:
            stack.resources[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
            stack.types[resource["LogicalResourceId"]] = resource["ResourceType"]

    _apply_bucket_notifications(cfn, stack, client("s3"))
    lambda_client = client("lambda")
    stack.specs = functions(template)
    for logical_id, spec in stack.specs.items():
        physical = stack.resources[logical_id]
        configuration = lambda_client.get_function_configuration(FunctionName=physical)
        stack.functions[logical_id] = LocalFunction(
            logical_id=logical_id,
            physical_name=configuration["FunctionName"],
            code_dir=spec.code_dir,
            handler=spec.handler,
            environment=dict(configuration.get("Environment", {}).get("Variables", {})),
        )
    for logical_id, resource in cfn["Resources"].items():
        if resource["Type"] == "AWS::Lambda::EventSourceMapping":
            stack.stream_sources.append(_event_source(logical_id, resource["Properties"], stack, cfn))
    return stack


def _upload_code(cfn: dict[str, Any], s3: Any, region: str) -> None:
    """Zip each function's and layer's code into the code bucket, as ``sam package`` would."""
    import io
    import zipfile

    s3.create_bucket(Bucket=LOCAL_CODE_BUCKET, CreateBucketConfiguration={"LocationConstraint": region})
    for resource in cfn["Resources"].values():
        props = resource.get("Properties", {})
        location = props.get("Code") or props.get("Content")
        if not isinstance(location, dict) or location.get("S3Bucket") != LOCAL_CODE_BUCKET:
            continue
        source = REPO_ROOT / location["S3Key"].removesuffix(".zip")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(source.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(source).as_posix())
        s3.put_object(Bucket=LOCAL_CODE_BUCKET, Key=location["S3Key"], Body=buffer.getvalue())


def _resolve(value: Any, stack: Stack, cfn: dict[str, Any]) -> Any:
    """The few intrinsics the adapters need: Ref and Fn::GetAtt of stack resources."""
    if isinstance(value, dict) and "Ref" in value:
        return stack.resources.get(value["Ref"], value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return {"logical_id": logical_id, "attribute": attribute}
    return value


API_GATEWAY_TYPES = ("AWS::ApiGateway::", "AWS::ApiGatewayV2::")


def _leave_out_api_gateway(cfn: dict[str, Any], api_url: str) -> None:
    """moto's API Gateway cannot invoke Lambda (and its CloudFormation needs names a REST API may
    not have): the runtime serves the API functions itself (receivables_local.api). The API
    resources, the permissions that let API Gateway invoke, and outputs naming them are left out;
    a function's environment variable or a parameter's value built from the API (its public URL)
    becomes ``api_url``."""
    resources = cfn["Resources"]
    gone = {name for name, r in resources.items() if r["Type"].startswith(API_GATEWAY_TYPES)}

    def names_gone(value: Any) -> bool:
        text = json.dumps(value)
        return any(f'"{name}"' in text or "${" + name in text for name in gone)

    for name, resource in list(resources.items()):
        if name in gone or (resource["Type"] == "AWS::Lambda::Permission" and names_gone(resource)):
            del resources[name]
    for name, output in list(cfn.get("Outputs", {}).items()):
        if names_gone(output):
            del cfn["Outputs"][name]
    for resource in resources.values():
        if resource["Type"] == "AWS::SSM::Parameter" and names_gone(resource["Properties"]["Value"]):
            resource["Properties"]["Value"] = api_url
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        for name, value in variables.items():
            if names_gone(value):
                variables[name] = api_url


def _leave_out_cognito(
    cfn: dict[str, Any], values: dict[str, str], physical: dict[str, str] | None = None
) -> None:
    """moto's CloudFormation has no Cognito: the user pool's resources are left out (the runtime
    creates the pool through the Cognito API), and a function's variable naming one of them takes
    its value from ``values`` (empty when there is none: that function does not sign anyone in)."""
    resources = cfn["Resources"]
    gone = {name for name, r in resources.items() if r["Type"].startswith("AWS::Cognito::")}
    for name in gone:
        del resources[name]

    def names_gone(value: Any) -> bool:
        text = json.dumps(value)
        return any(f'"{name}"' in text or "${" + name in text for name in gone)

    for name, output in list(cfn.get("Outputs", {}).items()):
        if names_gone(output):
            del cfn["Outputs"][name]
    for resource in resources.values():
        if resource["Type"] == "AWS::SSM::Parameter" and names_gone(resource["Properties"]["Value"]):
            # A parameter holding a pool resource's id (the console's client): the local one's.
            ref = resource["Properties"]["Value"]
            target = ref.get("Ref") if isinstance(ref, dict) else None
            resource["Properties"]["Value"] = (physical or {}).get(str(target), "left-out")
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        for name, value in variables.items():
            if names_gone(value):
                variables[name] = values.get(name, "")
    # Elsewhere (a role's policy naming the pool's ARN), a placeholder: moto checks no IAM.
    for name, resource in resources.items():
        resources[name] = _without_references(resource, gone)


def _without_references(value: Any, gone: set[str]) -> Any:
    """``value`` with each Ref or GetAtt of a resource in ``gone`` made a placeholder string."""
    if isinstance(value, dict):
        ref = value.get("Ref")
        get_att = value.get("Fn::GetAtt")
        target = get_att[0] if isinstance(get_att, list) and get_att else ref
        if len(value) == 1 and target in gone:
            return f"arn:aws:cognito-idp:local:left-out/{target}"
        return {k: _without_references(v, gone) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_references(v, gone) for v in value]
    return value


def _apply_bucket_notifications(cfn: dict[str, Any], stack: Stack, s3: Any) -> None:
    for logical_id, resource in cfn["Resources"].items():
        if resource["Type"] != "AWS::S3::Bucket":
            continue
        notification = resource.get("Properties", {}).get("NotificationConfiguration")
        if not notification:
            continue
        unsupported = set(notification) - {"EventBridgeConfiguration"}
        if unsupported:
            raise NotImplementedError(
                f"{logical_id}: the local runtime re-applies only EventBridge notifications, "
                f"not {unsupported}"
            )
        if notification["EventBridgeConfiguration"].get("EventBridgeEnabled"):
            s3.put_bucket_notification_configuration(
                Bucket=stack.resources[logical_id],
                NotificationConfiguration={"EventBridgeConfiguration": {}},
            )


def _inline_state_machine_definitions(cfn: dict[str, Any]) -> None:
    """moto ignores DefinitionSubstitutions: resolve them into the definition string itself."""
    for resource in cfn["Resources"].values():
        if resource["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        props = resource["Properties"]
        location = props.pop("DefinitionS3Location", None)
        if location is not None and "Definition" not in props and "DefinitionString" not in props:
            key = location["Key"] if isinstance(location, dict) else str(location)
            props["Definition"] = json.loads((REPO_ROOT / key).read_text())
        substitutions = props.pop("DefinitionSubstitutions", {})
        if "Definition" in props:
            definition = json.dumps(props.pop("Definition"))
            parts: list[Any] = [definition]
            for name, value in substitutions.items():
                parts = _substitute(parts, "${" + name + "}", value)
            props["DefinitionString"] = {"Fn::Join": ["", parts]}


def _substitute(parts: list[Any], placeholder: str, value: Any) -> list[Any]:
    out: list[Any] = []
    for part in parts:
        if not isinstance(part, str) or placeholder not in part:
            out.append(part)
            continue
        pieces = part.split(placeholder)
        for index, piece in enumerate(pieces):
            if index:
                out.append(value)
            out.append(piece)
    return out


def _event_source(
    logical_id: str, props: dict[str, Any], stack: Stack, cfn: dict[str, Any]
) -> dict[str, Any]:
    source = props["EventSourceArn"]
    stream_arn = None
    if isinstance(source, dict) and "Fn::GetAtt" in source:
        table_logical, attribute = source["Fn::GetAtt"]
        if attribute == "StreamArn":
            stream_arn = {"table": stack.resources[table_logical]}
    function = props["FunctionName"]
    function_logical = function["Ref"] if isinstance(function, dict) else function
    destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    return {
        "logical_id": logical_id,
        "function": function_logical,
        "stream": stream_arn,
        "batch_size": int(props.get("BatchSize", 100)),
        "filters": [json.loads(f["Pattern"]) for f in props.get("FilterCriteria", {}).get("Filters", [])],
        "max_retries": int(props.get("MaximumRetryAttempts", 3)),
        "report_failures": "ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
        "on_failure": _resolve(destination, stack, cfn),
    }
