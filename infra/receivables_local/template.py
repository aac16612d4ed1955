"""template.yaml read and translated offline (SAM → CloudFormation), for the contract tests and
for provisioning the local runtime from the one source of resources."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from receivables_local.functions import REPO_ROOT

TEMPLATE_PATH = REPO_ROOT / "template.yaml"
LOCAL_CODE_BUCKET = "receivables-local-code"


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """A function as template.yaml declares it, with its Globals applied."""

    logical_id: str
    code_dir: str  # relative to the repository root, e.g. "functions/ingest"
    handler: str  # "app.lambda_handler"
    environment: dict[str, Any]
    events: dict[str, Any]


def load_template() -> dict[str, Any]:
    """template.yaml as a dict, short-form intrinsics (!Ref, !Sub…) in their long form."""
    from samtranslator.yaml_helper import yaml_parse

    return dict(yaml_parse(TEMPLATE_PATH.read_text()))


def functions(template: dict[str, Any]) -> dict[str, FunctionSpec]:
    """Every AWS::Serverless::Function, with the environment Globals merge into it."""
    global_function = template.get("Globals", {}).get("Function", {})
    global_env = global_function.get("Environment", {}).get("Variables", {})
    specs: dict[str, FunctionSpec] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=str(props["CodeUri"]).rstrip("/"),
            handler=props.get("Handler", global_function.get("Handler", "")),
            environment=env,
            events=props.get("Events", {}),
        )
    return specs


def translate(template: dict[str, Any], region: str = "eu-west-1") -> dict[str, Any]:
    """The CloudFormation template SAM would deploy, translated offline.

    Local code locations (``CodeUri: functions/ingest/``) become S3 locations in
    `LOCAL_CODE_BUCKET`, as ``sam package`` would make them.
    """
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    sam = copy.deepcopy(template)
    for resource in sam["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = f"s3://{LOCAL_CODE_BUCKET}/{props[key].rstrip('/')}.zip"
        # A state machine's definition file: the provisioner reads it back from the repository.
        if isinstance(props.get("DefinitionUri"), str) and not props["DefinitionUri"].startswith("s3://"):
            props["DefinitionUri"] = f"s3://{LOCAL_CODE_BUCKET}/{props['DefinitionUri']}"
    # Managed policies SAM may attach by name; their ARNs are not looked up offline.
    policy_names = (
        "AWSLambdaBasicExecutionRole",
        "AWSXrayWriteOnlyAccess",
        "AWSLambdaDynamoDBExecutionRole",
        "AWSLambdaSQSQueueExecutionRole",
    )
    managed = {name: f"arn:aws:iam::aws:policy/service-role/{name}" for name in policy_names}
    translator = Translator(managed, Parser(), boto_session=boto3.session.Session(region_name=region))
    return dict(translator.translate(sam, parameter_values={}))
