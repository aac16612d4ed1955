"""The embedded DynamoDB's index of items by index hash key, its sort on native key values and
its faster writing of attribute values answer every Query exactly as moto itself does.

Drawn by hypothesis: a table with a range key, two global indexes (one with a range key, one
without, both sparse) and a local index, then a run of writes of every kind moto has (PutItem,
UpdateItem that sets, changes or removes index keys or creates the item, DeleteItem, conditional
writes that fail, transactions that succeed or are cancelled and rolled back, BatchWriteItem);
after them every Query (each index hash value, with and without range conditions, both
directions, paged by small limits, filtered, projected) is asked of the patched moto and of moto's
own whole-table Query and serializer, on the same items, and the two answers must be equal."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.core.serialize import JSONSerializer
from moto.dynamodb.models.table import Table

from receivables_local import moto_indexes, moto_patches, moto_responses

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_dynamodb import DynamoDBClient

TABLE = "indexed"
PKS = ["a", "b", "c"]
SKS = ["1", "2", "3", "4"]
GROUPS = ["g1", "g2", "g3"]
RANGES = ["x", "y", "z"]

moto_patches.install()


@contextlib.contextmanager
def motos_own() -> Iterator[None]:
    """moto's own Query (every item of the table walked and sorted) and serializer."""
    saved = (Table.query, Table.all_items, Table.sorted_items, JSONSerializer._serialize_type_structure)
    Table.query = moto_patches.original_query  # type: ignore[method-assign]
    Table.all_items = moto_patches.original_all_items  # type: ignore[method-assign]
    Table.sorted_items = moto_patches.original_sorted_items  # type: ignore[method-assign]
    JSONSerializer._serialize_type_structure = moto_responses.original_serialize_structure  # type: ignore[method-assign]
    try:
        yield
    finally:
        (
            Table.query,  # type: ignore[method-assign]
            Table.all_items,  # type: ignore[method-assign]
            Table.sorted_items,  # type: ignore[method-assign]
            JSONSerializer._serialize_type_structure,  # type: ignore[method-assign]
        ) = saved


def create_table(client: DynamoDBClient) -> None:
    attributes: dict[str, Any] = {"pk": "S", "sk": "S", "grp": "S", "rng": "S", "num": "N", "lsk": "S"}
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in attributes.items()],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_group",
                "KeySchema": [
                    {"AttributeName": "grp", "KeyType": "HASH"},
                    {"AttributeName": "rng", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by_number",
                "KeySchema": [{"AttributeName": "num", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by_local",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "lsk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


# --- what the items hold: index keys that come and go, and values of every kind -------------------
scalars = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=6)),
    st.builds(lambda n: {"N": str(n)}, st.integers(-1000, 1000) | st.decimals(-100, 100, places=2)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda b: {"B": b}, st.binary(min_size=1, max_size=4)),
    st.builds(lambda s: {"SS": sorted(s)}, st.sets(st.text(min_size=1, max_size=3), min_size=1, max_size=3)),
    st.builds(lambda s: {"NS": sorted(map(str, s))}, st.sets(st.integers(0, 99), min_size=1, max_size=3)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
        st.builds(lambda m: {"M": m}, st.dictionaries(st.sampled_from(["p", "q", "r"]), inner, max_size=3)),
    ),
    max_leaves=6,
)
keys = st.fixed_dictionaries({"pk": st.sampled_from(PKS), "sk": st.sampled_from(SKS)})


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    key = draw(keys)
    item: dict[str, Any] = {"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}}
    if draw(st.booleans()):
        item["grp"] = {"S": draw(st.sampled_from(GROUPS))}
        if draw(st.integers(0, 3)):
            item["rng"] = {"S": draw(st.sampled_from(RANGES))}
    if draw(st.booleans()):
        item["num"] = {"N": draw(st.sampled_from(["1", "2", "2.0", "-3"]))}
    if draw(st.booleans()):
        item["lsk"] = {"S": draw(st.sampled_from(RANGES))}
    item["n"] = {"N": str(draw(st.integers(0, 9)))}
    if draw(st.booleans()):
        item["v"] = draw(values)
    return item


def key_of(key: dict[str, str]) -> dict[str, Any]:
    return {"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}}


updates = st.sampled_from(
    [
        ("SET grp = :g, rng = :r", {":g": {"S": "g2"}, ":r": {"S": "y"}}),
        ("SET grp = :g", {":g": {"S": "g1"}}),
        ("REMOVE grp", {}),
        ("REMOVE rng, num", {}),
        ("SET num = :n", {":n": {"N": "2"}}),
        ("SET n = if_not_exists(n, :z) + :one", {":z": {"N": "0"}, ":one": {"N": "1"}}),
        ("SET v = :v", {":v": {"M": {"p": {"S": "deep"}, "q": {"L": [{"N": "1"}, {"B": b"\x00"}]}}}}),
    ]
)
conditions = st.sampled_from([None, "attribute_exists(pk)", "attribute_not_exists(pk)", "n < :cap"])


def _condition(condition: str | None, values: dict[str, Any]) -> dict[str, Any]:
    if condition is None:
        return {}
    if ":cap" in condition:
        values = {**values, ":cap": {"N": "5"}}
    return {"ConditionExpression": condition, **({"ExpressionAttributeValues": values} if values else {})}


def _update(key: dict[str, str], update: tuple[str, dict[str, Any]], condition: str | None) -> dict[str, Any]:
    expression, values = update
    asked: dict[str, Any] = {"TableName": TABLE, "Key": key_of(key), "UpdateExpression": expression}
    if values:
        asked["ExpressionAttributeValues"] = values
    return asked | _condition(condition, values)


writes = st.one_of(
    st.tuples(st.just("put"), items(), conditions),
    st.tuples(st.just("update"), keys, updates, conditions),
    st.tuples(st.just("delete"), keys, conditions),
    st.tuples(st.just("transact"), st.lists(st.tuples(items(), conditions), min_size=1, max_size=3)),
    st.tuples(st.just("batch"), st.lists(st.one_of(items(), keys), min_size=1, max_size=4)),
)


def write(client: DynamoDBClient, drawn: tuple[Any, ...]) -> None:
    kind = drawn[0]
    with contextlib.suppress(ClientError):  # a failed condition or a cancelled transaction
        if kind == "put":
            _, item, condition = drawn
            client.put_item(TableName=TABLE, Item=item, **_condition(condition, {}))
        elif kind == "update":
            _, key, update, condition = drawn
            client.update_item(**_update(key, update, condition))
        elif kind == "delete":
            _, key, condition = drawn
            client.delete_item(TableName=TABLE, Key=key_of(key), **_condition(condition, {}))
        elif kind == "transact":
            actions, seen = [], set()
            for item, condition in drawn[1]:
                if (item["pk"]["S"], item["sk"]["S"]) not in seen:
                    seen.add((item["pk"]["S"], item["sk"]["S"]))
                    actions.append({"Put": {"TableName": TABLE, "Item": item, **_condition(condition, {})}})
            client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        else:
            requests, seen = [], set()
            for entry in drawn[1]:
                if isinstance(entry["pk"], str):  # a key: delete it
                    identity = (entry["pk"], entry["sk"])
                    request: dict[str, Any] = {"DeleteRequest": {"Key": key_of(entry)}}
                else:
                    identity = (entry["pk"]["S"], entry["sk"]["S"])
                    request = {"PutRequest": {"Item": entry}}
                if identity not in seen:
                    seen.add(identity)
                    requests.append(request)
            client.batch_write_item(RequestItems={TABLE: requests})  # type: ignore[dict-item]


# --- the Queries asked of both ----------------------------------------------------------------------
def queries() -> list[dict[str, Any]]:
    asked: list[dict[str, Any]] = []
    for group in [*GROUPS, "nobody"]:
        on_group = {"IndexName": "by_group", "ExpressionAttributeValues": {":g": {"S": group}}}
        asked.append({**on_group, "KeyConditionExpression": "grp = :g"})
        asked.append(
            {
                **on_group,
                "KeyConditionExpression": "grp = :g AND rng >= :r",
                "ExpressionAttributeValues": {":g": {"S": group}, ":r": {"S": "y"}},
                "ScanIndexForward": False,
            }
        )
        asked.append(
            {
                **on_group,
                "KeyConditionExpression": "grp = :g",
                "FilterExpression": "n > :m",
                "ExpressionAttributeValues": {":g": {"S": group}, ":m": {"N": "3"}},
                "ProjectionExpression": "pk, rng, v",
            }
        )
    for number in ["1", "2", "2.00", "-3", "7"]:
        asked.append(
            {
                "IndexName": "by_number",
                "KeyConditionExpression": "num = :n",
                "ExpressionAttributeValues": {":n": {"N": number}},
            }
        )
    for pk in [*PKS, "nobody"]:
        asked.append(
            {
                "IndexName": "by_local",
                "KeyConditionExpression": "pk = :p AND lsk BETWEEN :a AND :b",
                "ExpressionAttributeValues": {":p": {"S": pk}, ":a": {"S": "x"}, ":b": {"S": "y"}},
            }
        )
        asked.append(
            {
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": pk}},
                "ScanIndexForward": False,
            }
        )
    return asked


def answers(client: DynamoDBClient, query: dict[str, Any], limit: int | None) -> list[Any]:
    """Every page of the Query (its items, counts and LastEvaluatedKey), paged by ``limit``."""
    pages: list[Any] = []
    start: Any = None
    while True:
        paging: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
        if limit:
            paging["Limit"] = limit
        page: Any = client.query(TableName=TABLE, **query, **paging)
        page.pop("ResponseMetadata", None)
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if not start or len(pages) > 30:
            return pages


@pytest.fixture
def dynamodb() -> Iterator[DynamoDBClient]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_table(client)
        yield client


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    runs=st.lists(st.lists(writes, max_size=8), min_size=1, max_size=3),
    limit=st.sampled_from([None, 1, 2]),
)
def test_every_query_answers_as_motos_whole_table_query(
    dynamodb: DynamoDBClient, runs: list[list[tuple[Any, ...]]], limit: int | None
) -> None:
    # Given writes of every kind, queried between runs (so the index is kept, not only built)
    client = dynamodb
    for run in runs:
        for drawn in run:
            write(client, drawn)
        # When every Query is asked of both
        ours = [answers(client, q, limit) for q in queries()]
        with motos_own():
            theirs = [answers(client, q, limit) for q in queries()]
        # Then the answers are the same, page by page
        assert ours == theirs
    scanned = client.scan(TableName=TABLE)
    with motos_own():
        assert client.scan(TableName=TABLE)["Items"] == scanned["Items"]


def test_the_index_follows_a_table_made_again_under_the_same_name(dynamodb: DynamoDBClient) -> None:
    # Given an indexed table, queried once
    client = dynamodb

    def grouped(pk: str, sk: str, rng: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}, "grp": {"S": "g1"}, "rng": {"S": rng}}

    def group_g1() -> list[str]:
        found = client.query(
            TableName=TABLE,
            IndexName="by_group",
            KeyConditionExpression="grp = :g",
            ExpressionAttributeValues={":g": {"S": "g1"}},
        )
        return [i["pk"]["S"] for i in found["Items"]]

    client.put_item(TableName=TABLE, Item=grouped("a", "1", "x"))
    assert group_g1() == ["a"]
    # When it is deleted and made again with another item
    client.delete_table(TableName=TABLE)
    create_table(client)
    client.put_item(TableName=TABLE, Item=grouped("b", "2", "y"))
    # Then the Query finds the new table's item only
    assert group_g1() == ["b"]


def test_a_query_reads_its_partition_of_the_index_not_the_table(dynamodb: DynamoDBClient) -> None:
    from moto.dynamodb.models import dynamodb_backends

    # Given a table of many items, a few of them in one group of the index
    client = dynamodb
    for n in range(300):
        item = {"pk": {"S": f"p{n}"}, "sk": {"S": "1"}, "n": {"N": str(n % 10)}}
        if n % 100 == 0:
            item |= {"grp": {"S": "few"}, "rng": {"S": f"{n:03d}"}}
        client.put_item(TableName=TABLE, Item=item)
    table = dynamodb_backends["123456789012"]["eu-west-1"].get_table(TABLE)
    # When its items are looked up by that group
    found = moto_indexes.candidates(table, [("grp", moto_indexes_value("few"))])
    # Then the index hands moto those three items, not the table's 300
    assert found is not None
    assert sorted(i.attrs["rng"].value for i in found) == ["000", "100", "200"]


def moto_indexes_value(text: str) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType

    return DynamoType({"S": text})


@settings(max_examples=200, deadline=None)
@given(value=values)
def test_a_plain_attribute_value_is_written_as_motos_serializer_writes_it(value: dict[str, Any]) -> None:
    # Given any attribute value moto may return
    plain = moto_responses.plain_attribute_value(value)
    # Then the fast path either leaves it to moto or writes it as it is given
    if plain is not moto_responses._UNPLAIN:
        assert plain == value
        assert not {"B", "BS"} & set(_kinds(value))


def _kinds(value: dict[str, Any]) -> Iterator[str]:
    ((kind, inner),) = value.items()
    yield kind
    if kind == "M":
        for member in inner.values():
            yield from _kinds(member)
    elif kind == "L":
        for member in inner:
            yield from _kinds(member)
