"""Fixes to moto (5.2.5) that the embedded AWS needs to behave like DynamoDB at ledger volumes,
and (further down) the local runtime's adapters for moto's gaps.

- ``TransactWriteItems`` deep-copied every table a transaction touches, as a rollback backup:
  about 1 transaction/s at 20,000 items. The replacement snapshots only the items the
  transaction touches (and the stream records it adds), which keeps the rollback exact: same
  validation, same condition evaluation, same ``CancellationReasons``, every action undone when
  any fails.
- An item's 400 KB limit was checked once per attribute, summing every attribute so far:
  O(attributes²) per write. The replacement checks the whole item once, with the same limit.
- Every Query and Scan sorted the whole table with Python-level ``DynamoType`` comparisons. The
  replacement sorts on the keys' native values: the same order, at C speed.
- Every Query walked (and sorted) the whole table to find its partition. The replacement hands
  moto's own Query only the items that can match: the partition itself on the table, and on an
  index the items whose index hash key equals the one asked for, found in the table's index of
  them (`receivables_local.moto_indexes`, kept on every write). Order, paging, conditions,
  filters and projections stay moto's.
- A Query on an index sorted its items on DynamoType tuples; the replacement sorts on the native
  values where every item holds each key with one type (the same order), else leaves it to moto.
- Every attribute value in a response went through moto's model-driven serializer, member by
  member (`receivables_local.moto_responses` writes the plain ones as they are, to the same JSON).

``tests/integration/test_moto_patches.py`` holds each replacement to moto's own behaviour.
"""

from __future__ import annotations

import copy
import json
import threading
from datetime import UTC, datetime
from typing import Any

from receivables_local import moto_indexes, moto_responses

_installed = False
# moto's own implementation, kept so that tests can hold the replacement to its behaviour.
original_transact_write_items: Any = None


def install() -> None:
    """Apply the patches (idempotent)."""
    global _installed, original_transact_write_items
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    moto_indexes.install()
    moto_responses.install()
    global original_all_items
    original_transact_write_items = DynamoDBBackend.transact_write_items
    original_all_items = Table.all_items
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    Item.__init__ = _item_init  # type: ignore[method-assign]
    Table.all_items = _all_items  # type: ignore[method-assign]
    global original_query, original_sorted_items
    original_query = Table.query
    Table.query = _query  # type: ignore[method-assign]
    original_sorted_items = Table.sorted_items
    Table.sorted_items = _sorted_items  # type: ignore[method-assign]
    _installed = True


original_all_items: Any = None


def _native(value: Any) -> tuple[str, Any]:
    """A key's value as Python compares it: numbers as Decimal, strings and bytes as they are."""
    from decimal import Decimal

    if value is None:
        return ("", "")
    return (value.type, Decimal(value.value) if value.type == "N" else value.value)


original_query: Any = None
# The items a Query on this thread may match, set by `_query` around moto's own Query.
_candidates = threading.local()


def _all_items(self: Any) -> list[Any]:
    # moto sorts every item of the table by (hash, range) with Python-level DynamoType
    # comparisons on every Query and Scan (93% of a webhook's time on a ledger of a few hundred
    # items). Key attributes have one type each, so sorting on their native values gives the
    # same order at C speed.
    narrowed = getattr(_candidates, "items", None)
    items: list[Any] = []
    if narrowed is not None and narrowed[0] is self:
        items = narrowed[1]
    else:
        for hash_set in self.items.values():
            if self.range_key_attr:
                items.extend(hash_set.values())
            else:
                items.append(hash_set)
    return sorted(items, key=lambda x: (_native(x.hash_key), _native(x.range_key)))


original_sorted_items: Any = None


def _sorted_items(
    self: Any, hash_key_attrs: list[str], range_key_attrs: list[str | None], items: list[Any]
) -> Any:
    # moto sorts a Query's items on an index by their key attributes as DynamoType tuples, one
    # Python-level comparison (and Decimal conversion) at a time. Where every item holds each of
    # those attributes with one type, the native values sort in the same order (DynamoType
    # compares the cast values; equal ones tie, and the sort is stable); anything else is left to
    # moto (its comparison of a string with a number raises, as it did).
    names = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
    keys: list[tuple[Any, ...]] = []
    kinds: list[set[str]] = [set() for _ in names]
    for item in items:
        values = [item.attrs.get(name) for name in names]
        if any(v is None or v.type not in ("S", "N", "B") for v in values):
            return original_sorted_items(self, hash_key_attrs, range_key_attrs, items)
        for kind, value in zip(kinds, values, strict=True):
            kind.add(value.type)
        keys.append(tuple(_native(v)[1] for v in values))
    if any(len(kind) > 1 for kind in kinds):
        return original_sorted_items(self, hash_key_attrs, range_key_attrs, items)
    order = sorted(range(len(items)), key=keys.__getitem__)
    items[:] = [items[i] for i in order]
    return items


def _query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    """moto's Query over the items that can match it (see the module docstring)."""
    index_name = kwargs.get("index_name") if "index_name" in kwargs else (args[6] if len(args) > 6 else None)
    conditions = kwargs.get("hash_key_conditions") or []
    if index_name:
        if not conditions:
            return original_query(self, hash_key, *args, **kwargs)

        narrowed = moto_indexes.candidates(self, conditions)
        if narrowed is None:
            return original_query(self, hash_key, *args, **kwargs)
        candidates = narrowed
    elif hash_key is None:
        return original_query(self, hash_key, *args, **kwargs)
    else:
        partition = self.items.get(hash_key)
        if partition is None:
            candidates = []
        else:
            candidates = list(partition.values()) if self.range_key_attr else [partition]
    _candidates.items = (self, candidates)
    try:
        return original_query(self, hash_key, *args, **kwargs)
    finally:
        _candidates.items = None


# moto: "the actual limit is between 409 and 410KB"; it refuses above 405,000 bytes.
ITEM_SIZE_LIMIT = 405_000


def _item_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    self.hash_key = hash_key
    self.range_key = range_key
    built = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(built)
    size = 0
    for key, value in attrs.items():
        typed = DynamoType(value)
        size += bytesize(key) + typed.size()
        dict.__setitem__(built, key, typed)
    if size > ITEM_SIZE_LIMIT:
        raise ItemSizeTooLarge
    self.attrs = built


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:  # noqa: C901
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()

    snapshots: dict[tuple[str, str], tuple[Any, Any, Any, Any]] = {}
    stream_lengths: dict[str, int] = {}
    target_items: set[tuple[str, str]] = set()

    def remember(table_name: str, key: dict[str, Any]) -> None:
        """Snapshot the item (or its absence) before the transaction changes it."""
        identity = (table_name, str(dict(sorted(key.items()))))
        if identity in target_items:
            raise MultipleTransactionsException()
        target_items.add(identity)
        table = self.get_table(table_name)
        if table.stream_shard is not None and table_name not in stream_lengths:
            stream_lengths[table_name] = len(table.stream_shard.items)
        hash_value, range_value = self.get_keys_value(table, key)
        current = table.get_item(hash_value, range_value)
        snapshots[identity] = (table, hash_value, range_value, copy.deepcopy(current))

    def rollback() -> None:
        for table, hash_value, range_value, item in snapshots.values():
            if table.has_range_key:
                partition = table.items[hash_value]
                if item is None:
                    partition.pop(range_value, None)
                    if not partition:
                        table.items.pop(hash_value, None)
                else:
                    partition[range_value] = item
            elif item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
            moto_indexes.refresh(table, hash_value, range_value)
        for table_name, length in stream_lengths.items():
            shard = self.get_table(table_name).stream_shard
            if shard is not None:
                del shard.items[length:]

    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            remember(table_name, key)
            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition = get_filter_expression(condition_expression, names, values)
                if not condition.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            if op_type == "Put":
                self.put_item(
                    table_name,
                    op["Item"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Update":
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            rollback()
            raise
        except ConditionalCheckFailed as exc:
            errors.append(("ConditionalCheckFailed", str(exc.message), original_item))
        except Exception as exc:  # noqa: BLE001 - reported per action, as moto itself does
            errors.append((type(exc).__name__, str(exc), original_item))
    if any(code is not None for code, _, _ in errors):
        rollback()
        raise TransactionCanceledException(errors)


# --- the local runtime's adapters -----------------------------------------------------------------
# moto runs no Lambda without Docker, and its EventBridge rules do not invoke Lambda or Step
# Functions targets. The local runtime closes both gaps by handing those invocations to its own
# invoker (receivables_local.invoker), which runs the handler code in this process. Each adapter
# is as small as the gap it closes; tests/integration/test_local_adapters.py pins their behaviour
# to the moto version in pyproject.toml.
_runtime_target: Any = None


def install_runtime(router: Any) -> None:
    """Route moto's Lambda invocations and EventBridge Lambda targets to ``router``.

    ``router`` has ``invoke(name_or_arn, event) -> (payload, errored)`` (synchronous, for the
    Invoke API and Step Functions tasks), ``invoke_async(name_or_arn, event)``,
    ``deliver_rule_target(rule, target, event)`` and a ``clock`` (receivables_local.clock).
    """
    global _runtime_target
    install()
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.events.models import Rule
    from moto.utilities.docker_utilities import DockerModel

    if _runtime_target is None:
        original_send = Rule.send_to_targets
        Rule.send_to_targets = _rule_sender(original_send)  # type: ignore[method-assign]
        LambdaFunction.invoke = _lambda_invoke  # type: ignore[method-assign]
        # Stream event source mappings are polled by the router, as Lambda's own poller does
        # (batches, filter criteria, partial failures); moto would invoke synchronously inside
        # the writer's request, once per write.
        LambdaBackend.send_dynamodb_items = _leave_stream_to_router  # type: ignore[method-assign,assignment]
        DockerModel.docker_client = property(_no_docker)  # type: ignore[method-assign,assignment]
        # CloudFormation resolves !Ref EventBus to the bus object itself (moto's EventBus has no
        # physical_resource_id), which then poisons every environment that names the bus.
        from moto.events.models import EventBus

        EventBus.physical_resource_id = property(lambda self: self.name)  # type: ignore[attr-defined]
        _install_scaled_waits()
        _install_secret_model()
        _install_state_machine_model()
    _runtime_target = router


def _install_state_machine_model() -> None:
    """moto's CloudFormation creates state machines in the plain Step Functions backend, while
    the API (once executions are configured to run) serves them from the parser backend: a
    state machine of the template would be invisible to StartExecution. Create it where the API
    looks."""
    from moto.stepfunctions.models import StateMachine
    from moto.stepfunctions.responses import get_backend
    from moto.stepfunctions.utils import cfn_to_api_tags

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        props = cloudformation_json["Properties"]
        tags = cfn_to_api_tags(props.get("Tags", []))
        return get_backend(account_id, region_name).create_state_machine(
            props.get("StateMachineName", resource_name),
            props.get("DefinitionString", ""),
            props.get("RoleArn", ""),
            tags=tags,
        )

    StateMachine.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign,assignment,arg-type]


def _no_docker(self: Any) -> Any:
    # An AttributeError (not moto's DockerException) lets /moto-api/data.json skip the attribute.
    raise AttributeError("docker_client: the local runtime runs Lambda handlers in-process")


def _leave_stream_to_router(self: Any, function_arn: str, items: list[Any], source: str) -> None:
    return None


def _lambda_invoke(self: Any, body: str, request_headers: Any, response_headers: Any) -> str | bytes:
    event = json.loads(body) if body else {}
    invocation_type = (request_headers or {}).get("x-amz-invocation-type", "RequestResponse")
    if invocation_type == "Event":
        _runtime_target.invoke_async(self.function_arn, event)
        return ""
    payload, errored = _runtime_target.invoke(self.function_arn, event)
    if errored:
        response_headers["x-amz-function-error"] = "Unhandled"
    return json.dumps(payload).encode()


def _rule_sender(original: Any) -> Any:
    def send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
        # A scheduled rule has no pattern, which moto's matcher takes as "matches everything":
        # on AWS it matches no put event (the router fires schedules itself), nor a disabled rule.
        if self.state != "ENABLED" or (self.scheduled_expression and not self.event_pattern._pattern):
            return
        if not self.event_pattern.matches_event(original_event):
            return
        ours = [t for t in self.targets if t["Arn"].split(":")[2] in ("lambda", "states")]
        others = [t for t in self.targets if t not in ours]
        event = dict(original_event)
        if isinstance(event.get("time"), int | float):
            event["time"] = datetime.fromtimestamp(event["time"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for target in ours:
            _runtime_target.deliver_rule_target(self, target, event)
        if others:
            saved = self.targets
            self.targets = others
            try:
                original(self, original_event, transform_input)
            finally:
                self.targets = saved

    return send_to_targets


# --- time in Step Functions ---------------------------------------------------------------------
# moto waits in real seconds: a Wait state on an event, a Retry interval with time.sleep, a callback
# task on its endpoint's event, and a TimestampPath is compared with a naive datetime.now(). On the
# local runtime every one of those waits is on the runtime's clock (receivables_local.clock), in
# simulated time: the waiting execution is not busy while it waits, and the clock wakes it when it
# reaches the instant (a paced clock once the rest of the system is quiescent, a stepped one when
# a story steps there). Each execution is one unit of the clock's work from StartExecution to its
# end, so the clock never moves while an execution is between its states. (Our state machines
# run one thread of an execution at a time; a Map or Parallel state would need a unit per branch.)
def _install_scaled_waits() -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import timestamp
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker, SyncExecutionWorker

    WaitFunction._eval_body = _clocked_wait_body  # type: ignore[method-assign]
    retrier_decl.time = _ClockedSleep()  # type: ignore[attr-defined,assignment]
    _count_executions(ExecutionWorker, SyncExecutionWorker)
    _clock_callbacks(CallbackEndpoint)
    original_parse = Timestamp._from_timestamp_string

    def get_wait_seconds(self: Any, env: Any) -> int:
        self.string.eval(env=env)
        text: str = env.stack.pop()
        parsed = original_parse(text)
        if parsed is None:
            raise timestamp.FailureEventException(self._create_failure_event(env, text))  # type: ignore[attr-defined]
        delta = parsed.replace(tzinfo=UTC) - _runtime_target.clock.now()
        return int(delta.total_seconds())

    Timestamp._get_wait_seconds = get_wait_seconds  # type: ignore[method-assign]


def _count_executions(worker: Any, sync_worker: Any) -> None:
    """An execution is one unit of the clock's work from its start (in the StartExecution
    request, before its thread runs) to the end of its program."""
    original_logic = worker._execution_logic
    original_start = worker.start
    original_sync_start = sync_worker.start

    def counted(start: Any) -> Any:
        def begin_then_start(self: Any) -> None:
            self._local_clock = _runtime_target.clock
            self._local_clock.work.begin()
            try:
                start(self)
            except BaseException:
                self._local_clock.work.end()
                raise

        return begin_then_start

    def execution_logic(self: Any) -> None:
        try:
            original_logic(self)
        finally:
            clock = getattr(self, "_local_clock", None)
            if clock is not None:
                clock.work.end()

    worker._execution_logic = execution_logic
    worker.start = counted(original_start)
    sync_worker.start = counted(original_sync_start)


def _clock_callbacks(endpoint: Any) -> None:
    """A task waiting for its token waits on the clock (its TimeoutSeconds is simulated time); the
    call that brings the outcome (SendTaskSuccess, SendTaskFailure, a stop) wakes it, counted
    again before that call returns."""
    from datetime import timedelta

    original_notify = endpoint.notify
    original_interrupt = endpoint.interrupt_all

    def wait(self: Any, timeout: float | None = None) -> Any:
        clock = _runtime_target.clock
        seconds = timeout if timeout is not None else 10 * 365 * 86400
        sleeper = clock.sleeper(clock.now() + timedelta(seconds=seconds))
        if sleeper is None:
            return self._outcome
        self._local_sleeper = (clock, sleeper)
        if self._notify_event.is_set():  # the outcome came before the sleeper was in place
            clock.wake(sleeper)
        sleeper.event.wait()
        return self._outcome

    def wake(self: Any) -> None:
        registered = getattr(self, "_local_sleeper", None)
        if registered is not None:
            clock, sleeper = registered
            clock.wake(sleeper)

    def notify(self: Any, outcome: Any) -> None:
        original_notify(self, outcome)
        wake(self)

    def interrupt_all(self: Any) -> None:
        original_interrupt(self)
        wake(self)

    endpoint.wait = wait
    endpoint.notify = notify
    endpoint.interrupt_all = interrupt_all


class _ClockedSleep:
    """``time`` for moto's retrier: ``sleep`` takes simulated seconds, on the runtime's clock."""

    def __getattr__(self, name: str) -> Any:
        import time

        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        _runtime_target.clock.sleep(seconds)


def _clocked_wait_body(self: Any, env: Any) -> None:
    simulated = self._get_wait_seconds(env=env)
    _runtime_target.clock.sleep(simulated, interrupted=lambda: not env.is_running())


# --- Secrets Manager in CloudFormation -------------------------------------------------------------
# moto's CloudFormation has no model for AWS::SecretsManager::Secret: the resource is skipped and
# every !Ref to it vanishes from the environments that name it. This model creates the secret
# through moto's own Secrets Manager backend (a generated value where the template asks for one),
# and answers Ref with the secret's ARN, as CloudFormation does.
def _install_secret_model() -> None:
    import secrets

    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.secretsmanager.models import secretsmanager_backends

    class LocalSecret(CloudFormationModel):
        def __init__(self, arn: str, name: str) -> None:
            self.arn = arn
            self.name = name

        @property
        def physical_resource_id(self) -> str:
            return self.arn

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SecretsManager::Secret"

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> LocalSecret:
            props = cloudformation_json.get("Properties", {})
            value = props.get("SecretString") or secrets.token_urlsafe(36)
            created = json.loads(
                secretsmanager_backends[account_id][region_name].create_secret(
                    name=props.get("Name") or resource_name,
                    secret_string=value,
                    secret_binary=None,
                    description=props.get("Description"),
                    tags=None,
                    kms_key_id=None,
                    client_request_token=None,
                    replica_regions=[],
                    force_overwrite=False,
                )
            )
            return cls(created["ARN"], created["Name"])

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
