"""The local runtime's adapters around moto, each against the gap it closes (moto as pinned).

If a moto upgrade changes what an adapter relies on, these fail loudly.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from receivables_local import moto_patches
from receivables_local.clock import LocalClock
from receivables_local.provision import _inline_state_machine_definitions
from receivables_local.router import Router

if TYPE_CHECKING:
    from collections.abc import Iterator

REGION = "eu-west-1"
ROLE = "arn:aws:iam::123456789012:role/local"


class RecordingRouter:
    """Stands in for the runtime's router: records what moto hands over."""

    def __init__(self) -> None:
        # Paced: a simulated day a real second, while no execution is between its states.
        self.clock = LocalClock(datetime(2026, 11, 23, 6, 0, tzinfo=UTC), "paced", 86400.0)
        self.sync: list[tuple[str, Any]] = []
        self.queued: list[tuple[str, Any]] = []
        self.rule_targets: list[tuple[str, dict[str, Any]]] = []
        self.fail = False

    def invoke(self, name_or_arn: str, event: Any) -> tuple[Any, bool]:
        self.sync.append((name_or_arn, event))
        if self.fail:
            return {"errorType": "ValueError", "errorMessage": "boom"}, True
        return {"echo": event}, False

    def invoke_async(self, name_or_arn: str, event: Any) -> None:
        self.queued.append((name_or_arn, event))

    def deliver_rule_target(self, rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
        self.rule_targets.append((target["Arn"], event))


@pytest.fixture
def router() -> Iterator[RecordingRouter]:
    recording = RecordingRouter()
    moto_patches.install_runtime(recording)
    recording.clock.start()
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            create_role()
            yield recording
    finally:
        recording.clock.stop()


def create_role() -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    boto3.client("iam", region_name=REGION).create_role(
        RoleName="local", AssumeRolePolicyDocument=json.dumps(trust)
    )


def make_function(name: str = "fn", environment: dict[str, str] | None = None) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
    arn: str = boto3.client("lambda", region_name=REGION).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.lambda_handler",
        Code={"ZipFile": buffer.getvalue()},
        Environment={"Variables": environment or {}},
    )["FunctionArn"]
    return arn


def test_lambda_invoke_runs_through_the_router_not_docker(router: RecordingRouter) -> None:
    arn = make_function()
    client = boto3.client("lambda", region_name=REGION)

    response = client.invoke(FunctionName="fn", Payload=json.dumps({"n": 1}))

    assert json.loads(response["Payload"].read()) == {"echo": {"n": 1}}
    assert router.sync == [(arn, {"n": 1})]


def test_a_failing_handler_is_a_function_error(router: RecordingRouter) -> None:
    make_function()
    router.fail = True

    response = boto3.client("lambda", region_name=REGION).invoke(FunctionName="fn", Payload=b"{}")

    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "ValueError"


def test_an_asynchronous_invoke_is_queued(router: RecordingRouter) -> None:
    arn = make_function()

    response = boto3.client("lambda", region_name=REGION).invoke(
        FunctionName="fn", InvocationType="Event", Payload=b'{"n": 2}'
    )

    assert response["StatusCode"] == 202
    assert router.queued == [(arn, {"n": 2})] and router.sync == []


def test_eventbridge_lambda_targets_reach_the_router_and_other_targets_still_work(
    router: RecordingRouter,
) -> None:
    arn = make_function()
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["test"]}))
    events.put_targets(Rule="r", Targets=[{"Id": "fn", "Arn": arn}, {"Id": "q", "Arn": queue_arn}])

    events.put_events(Entries=[{"Source": "test", "DetailType": "Ping", "Detail": '{"a": 1}'}])

    [(target, event)] = router.rule_targets
    assert target == arn
    assert (event["detail-type"], event["detail"]) == ("Ping", {"a": 1})
    assert isinstance(event["time"], str) and event["time"].endswith("Z")
    assert len(sqs.receive_message(QueueUrl=queue).get("Messages", [])) == 1


def test_put_events_reach_neither_scheduled_nor_disabled_rules(router: RecordingRouter) -> None:
    # moto takes a rule without a pattern (a schedule) as matching every event; AWS does not.
    arn = make_function()
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="daily", ScheduleExpression="cron(0 5 * * ? *)")
    events.put_rule(Name="off", EventPattern=json.dumps({"source": ["test"]}), State="DISABLED")
    events.put_rule(Name="on", EventPattern=json.dumps({"source": ["test"]}))
    for rule in ("daily", "off", "on"):
        events.put_targets(Rule=rule, Targets=[{"Id": rule, "Arn": arn}])

    events.put_events(Entries=[{"Source": "test", "DetailType": "Ping", "Detail": "{}"}])

    assert [event["detail-type"] for _, event in router.rule_targets] == ["Ping"]


def test_s3_eventbridge_notifications_reach_a_rule_with_an_inbox_prefix(router: RecordingRouter) -> None:
    arn = make_function()
    s3 = boto3.client("s3", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    s3.create_bucket(Bucket="inv-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_notification_configuration(
        Bucket="inv-bucket", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["inv-bucket"]}, "object": {"key": [{"prefix": "inbox/"}]}},
    }
    events.put_rule(Name="ingest", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="ingest", Targets=[{"Id": "fn", "Arn": arn}])

    s3.put_object(Bucket="inv-bucket", Key="inbox/a.csv", Body=b"x")
    s3.put_object(Bucket="inv-bucket", Key="processed/a.csv", Body=b"x")

    assert [e["detail"]["object"]["key"] for _, e in router.rule_targets] == ["inbox/a.csv"]


def test_eventbus_refs_resolve_to_the_bus_name_in_cloudformation(router: RecordingRouter) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "")
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="code-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="code-bucket", Key="fn.zip", Body=buffer.getvalue())
    template = {
        "Resources": {
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "ledger"}},
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Handler": "app.lambda_handler",
                    "Runtime": "python3.12",
                    "Role": ROLE,
                    "Code": {"S3Bucket": "code-bucket", "S3Key": "fn.zip"},
                    "Environment": {"Variables": {"EVENT_BUS_NAME": {"Ref": "Bus"}}},
                },
            },
        }
    }
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName="s", TemplateBody=json.dumps(template))
    name = cloudformation.describe_stack_resource(StackName="s", LogicalResourceId="Fn")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]

    configuration = boto3.client("lambda", region_name=REGION).get_function_configuration(FunctionName=name)

    assert configuration["Environment"]["Variables"]["EVENT_BUS_NAME"] == "ledger"


def test_moto_api_data_survives_a_lambda_without_docker(router: RecordingRouter) -> None:
    from moto.awslambda.models import LambdaFunction
    from moto.core.model_instances import model_data

    make_function()
    tracked: Any = model_data["awslambda"]["LambdaFunction"]
    [function] = [f for f in tracked.instances_tracked if f.function_name == "fn"]
    assert isinstance(function, LambdaFunction)

    with pytest.raises(AttributeError, match="in-process"):
        _ = function.docker_client


def test_the_stream_is_left_to_the_router(router: RecordingRouter) -> None:
    from moto.awslambda.models import LambdaBackend

    assert LambdaBackend.send_dynamodb_items(None, "arn", [object()], "source") is None  # type: ignore[arg-type]


def test_definition_substitutions_are_resolved_into_the_definition() -> None:
    cfn: dict[str, Any] = {
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "Definition": {
                        "StartAt": "Plan",
                        "States": {"Plan": {"Type": "Task", "Resource": "${PlanFunctionArn}", "End": True}},
                    },
                    "DefinitionSubstitutions": {"PlanFunctionArn": {"Fn::GetAtt": ["PlanFunction", "Arn"]}},
                    "RoleArn": ROLE,
                },
            }
        }
    }

    _inline_state_machine_definitions(cfn)

    props = cfn["Resources"]["Machine"]["Properties"]
    assert "DefinitionSubstitutions" not in props
    parts = props["DefinitionString"]["Fn::Join"][1]
    assert {"Fn::GetAtt": ["PlanFunction", "Arn"]} in parts
    assert "${PlanFunctionArn}" not in json.dumps(parts)


class _Invoker:
    def __init__(self) -> None:
        self.queued: list[tuple[str, Any]] = []

    def invoke_async(self, name: str, event: Any, done: Any = None) -> None:
        self.queued.append((name, event))
        if done is not None:
            done()


def test_scheduled_rules_fire_when_the_runtime_clock_reaches_them() -> None:
    with mock_aws():
        create_role()
        arn = make_function()
        events = boto3.client("events", region_name=REGION)
        events.put_rule(Name="daily-sweep", ScheduleExpression="rate(1 day)")
        events.put_targets(Rule="daily-sweep", Targets=[{"Id": "fn", "Arn": arn}])
        clock = LocalClock(datetime(2026, 11, 23, 6, 0, tzinfo=UTC), "stepped")
        invoker = _Invoker()
        router = Router(invoker, boto3.session.Session(region_name=REGION), None, REGION, clock)  # type: ignore[arg-type]
        from receivables_local.provision import Stack

        router.attach(Stack("s"))

        assert clock.next_due() == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
        assert invoker.queued == []
        clock.advance(timedelta(days=3, minutes=1), timeout=10)

    assert [event["detail-type"] for _, event in invoker.queued] == ["Scheduled Event"] * 3
    assert [event["time"] for _, event in invoker.queued] == [
        "2026-11-24T06:00:00Z",
        "2026-11-25T06:00:00Z",
        "2026-11-26T06:00:00Z",
    ]


class _BusyInvoker(_Invoker):
    """Holds every invocation, as a slow function would."""

    def invoke_async(self, name: str, event: Any, done: Any = None) -> None:
        self.queued.append((name, event))
        self.done = done


def test_a_schedule_whose_last_run_is_still_busy_folds_its_missed_firings() -> None:
    with mock_aws():
        create_role()
        arn = make_function()
        events = boto3.client("events", region_name=REGION)
        events.put_rule(Name="daily-sweep", ScheduleExpression="rate(1 day)")
        events.put_targets(Rule="daily-sweep", Targets=[{"Id": "fn", "Arn": arn}])
        # A busy invoker that is not a probe of the clock: as if the clock could not see it
        # (on the real clock a schedule comes round whether or not its last run is done).
        clock = LocalClock(datetime(2026, 11, 23, 6, 0, tzinfo=UTC), "stepped")
        invoker = _BusyInvoker()
        router = Router(invoker, boto3.session.Session(region_name=REGION), None, REGION, clock)  # type: ignore[arg-type]
        from receivables_local.provision import Stack

        router.attach(Stack("s"))
        clock.advance(timedelta(days=1, minutes=1), timeout=10)
        clock.advance(timedelta(days=5), timeout=10)  # still busy: nothing more is queued
        assert len(invoker.queued) == 1
        invoker.done()
        clock.advance(timedelta(days=1), timeout=10)

    assert len(invoker.queued) == 2, "once free, it fires again, without the backlog"


def test_step_functions_waits_run_in_simulated_time_and_tasks_reach_the_router(
    router: RecordingRouter,
) -> None:
    import time

    arn = make_function()
    definition = {
        "StartAt": "Plan",
        "States": {
            "Plan": {"Type": "Task", "Resource": arn, "ResultPath": "$.plan", "Next": "Wait a day"},
            "Wait a day": {"Type": "Wait", "SecondsPath": "$.seconds", "Next": "Wait until"},
            "Wait until": {"Type": "Wait", "TimestampPath": "$.until", "End": True},
        },
    }
    until = (router.clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(
        name="m", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/local"
    )["stateMachineArn"]

    started = time.monotonic()
    execution = sfn.start_execution(
        stateMachineArn=machine, input=json.dumps({"seconds": 86400, "until": until})
    )["executionArn"]
    status = "RUNNING"
    while status == "RUNNING" and time.monotonic() - started < 30:
        time.sleep(0.1)
        status = sfn.describe_execution(executionArn=execution)["status"]
    elapsed = time.monotonic() - started

    assert status == "SUCCEEDED"
    assert elapsed < 10, f"one simulated day plus two took {elapsed:.1f} s at x86400"
    assert [event for _, event in router.sync] == [{"seconds": 86400, "until": until}]


def test_step_functions_retry_intervals_are_simulated_time_too(router: RecordingRouter) -> None:
    import time

    missing = f"arn:aws:lambda:{REGION}:123456789012:function:missing"
    retry = {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 3600, "MaxAttempts": 2, "BackoffRate": 2}
    definition = {
        "StartAt": "Call",
        "States": {"Call": {"Type": "Task", "Resource": missing, "Retry": [retry], "End": True}},
    }
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(
        name="retried", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/local"
    )["stateMachineArn"]

    started = time.monotonic()
    execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    status = "RUNNING"
    while status == "RUNNING" and time.monotonic() - started < 30:
        time.sleep(0.05)
        status = sfn.describe_execution(executionArn=execution)["status"]
    elapsed = time.monotonic() - started

    assert status == "FAILED"  # after two retries an hour and two hours apart, simulated
    assert elapsed < 10, f"three simulated hours of retries took {elapsed:.1f} s at x86400"


def test_cloudformation_creates_secrets_and_refs_resolve_to_their_arn(router: RecordingRouter) -> None:
    template = {
        "Resources": {
            "Signing": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {"GenerateSecretString": {"PasswordLength": 48}},
            },
            "Queue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"Tags": [{"Key": "secret", "Value": {"Ref": "Signing"}}]},
            },
        }
    }
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName="secrets", TemplateBody=json.dumps(template))
    arn = cloudformation.describe_stack_resource(StackName="secrets", LogicalResourceId="Signing")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]

    value = boto3.client("secretsmanager", region_name=REGION).get_secret_value(SecretId=arn)["SecretString"]

    assert arn.startswith("arn:aws:secretsmanager:eu-west-1:123456789012:secret:")
    assert len(value) >= 32
