"""The embedded AWS's item-level transaction rollback behaves as moto's whole-table one did."""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from receivables_local import moto_patches

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_dynamodb import DynamoDBClient

TABLE = "tx"


@pytest.fixture(params=["patched", "moto"])
def dynamodb(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDBClient]:
    moto_patches.install()
    if request.param == "moto":
        monkeypatch.setattr(
            DynamoDBBackend, "transact_write_items", moto_patches.original_transact_write_items
        )
    with mock_aws():
        yield create_table()


def create_table() -> DynamoDBClient:
    """A two-key table with a stream, as the ledger's."""
    client = boto3.client("dynamodb", region_name="eu-west-1")
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return client


def item(pk: str, sk: str = "A", **extra: Any) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"N": str(v)} for k, v in extra.items()}}


def everything(client: DynamoDBClient) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName=TABLE)["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def stream_length(client: DynamoDBClient) -> int:
    """Records on the table's stream (read from moto's backend: a rollback must remove its own)."""
    from moto.dynamodb.models import dynamodb_backends

    shard = dynamodb_backends["123456789012"]["eu-west-1"].get_table(TABLE).stream_shard
    assert shard is not None
    return len(shard.items)


def test_a_cancelled_transaction_undoes_every_action_and_names_the_failure(dynamodb: DynamoDBClient) -> None:
    dynamodb.put_item(TableName=TABLE, Item=item("keep", v=1))
    dynamodb.put_item(TableName=TABLE, Item=item("change", v=1))
    dynamodb.put_item(TableName=TABLE, Item=item("gone", v=1))
    before, stream_before = everything(dynamodb), stream_length(dynamodb)

    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": item("new", v=1)}},
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "change"}, "sk": {"S": "A"}},
                        "UpdateExpression": "SET v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "gone"}, "sk": {"S": "A"}}}},
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": item("keep", v=9),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    reasons = [r["Code"] for r in caught.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert everything(dynamodb) == before
    assert stream_length(dynamodb) == stream_before


def test_a_successful_transaction_applies_every_action(dynamodb: DynamoDBClient) -> None:
    dynamodb.put_item(TableName=TABLE, Item=item("change", v=1))

    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": item("new", v=1),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "change"}, "sk": {"S": "A"}},
                    "UpdateExpression": "SET v = :two",
                    "ConditionExpression": "v = :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":two": {"N": "2"}},
                }
            },
        ]
    )

    assert everything(dynamodb) == [item("change", v=2), item("new", v=1)]


def test_two_actions_on_one_item_are_refused_and_undone(dynamodb: DynamoDBClient) -> None:
    with pytest.raises(ClientError, match="multiple operations on one item"):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": item("x", v=1)}},
                {"Put": {"TableName": TABLE, "Item": item("x", v=2)}},
            ]
        )
    assert everything(dynamodb) == []


def test_transaction_cost_does_not_grow_with_the_table() -> None:
    moto_patches.install()
    with mock_aws():
        client = create_table()

        def timed(batch: int) -> float:
            """The median time of one 50-item transaction among 20: a pause of the machine (the
            other test worker, the collector) moves a sum, hardly a median."""
            times = []
            for n in range(20):
                start = time.perf_counter()
                client.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": TABLE, "Item": item(f"{batch}-{n}-{i}")}} for i in range(50)
                    ]
                )
                times.append(time.perf_counter() - start)
            return statistics.median(times)

        small = timed(0)  # table: 0 → 1,000 items
        for b in range(1, 5):
            timed(b)  # table grows to 5,000 items
        large = timed(9)  # table: 5,000 → 6,000 items
        # moto's whole-table copy would make the last run several times slower than the first.
        assert large < small * 4 + 0.025  # moto's own copy gets tens of times slower per transaction


def test_the_table_listing_keeps_motos_order() -> None:
    from moto.dynamodb.models import dynamodb_backends

    moto_patches.install()
    with mock_aws():
        client = create_table()
        keys = ["b", "a", "B", "a10", "a9", "ä", ""] * 3
        for n, pk in enumerate(keys):
            if pk:
                client.put_item(TableName=TABLE, Item=item(pk, f"{n:03d}-{pk}"))
        numeric = boto3.client("dynamodb", region_name="eu-west-1")
        numeric.create_table(
            TableName="numbers",
            KeySchema=[{"AttributeName": "n", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "n", "AttributeType": "N"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for value in ["10", "9", "-1", "2.5", "100"]:
            numeric.put_item(TableName="numbers", Item={"n": {"N": value}})
        backend = dynamodb_backends["123456789012"]["eu-west-1"]
        for name in (TABLE, "numbers"):
            table = backend.get_table(name)
            assert table.all_items() == moto_patches.original_all_items(table)
        assert [i.hash_key.value for i in backend.get_table("numbers").all_items()] == [
            "-1",
            "2.5",
            "9",
            "10",
            "100",
        ]


def test_queries_over_their_partition_answer_as_motos_whole_table_queries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.dynamodb.models.table import Table

    moto_patches.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName="q",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gpk", "gsk")
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi",
                    "KeySchema": [
                        {"AttributeName": "gpk", "KeyType": "HASH"},
                        {"AttributeName": "gsk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for n in range(120):
            entry: dict[str, Any] = {"pk": {"S": f"P{n % 7}"}, "sk": {"S": f"{n:03d}"}, "n": {"N": str(n)}}
            if n % 3:  # a sparse index: a third of the items are not in it
                entry |= {"gpk": {"S": f"G{n % 4}"}, "gsk": {"S": f"{n % 11:02d}#{n}"}}
            client.put_item(TableName="q", Item=entry)
        queries: list[dict[str, Any]] = [
            {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P3"}}},
            {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "nope"}}},
            {
                "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
                "ExpressionAttributeValues": {":p": {"S": "P1"}, ":a": {"S": "010"}, ":b": {"S": "090"}},
                "ScanIndexForward": False,
            },
            {
                "IndexName": "gsi",
                "KeyConditionExpression": "gpk = :g AND gsk <= :s",
                "ExpressionAttributeValues": {":g": {"S": "G2"}, ":s": {"S": "05#\uffff"}, ":m": {"N": "40"}},
                "FilterExpression": "n > :m",
            },
            {
                "IndexName": "gsi",
                "KeyConditionExpression": "gpk = :g",
                "ExpressionAttributeValues": {":g": {"S": "G1"}},
            },
        ]

        def pages(query: dict[str, Any]) -> list[list[dict[str, Any]]]:
            found: list[list[dict[str, Any]]] = []
            start: Any = None
            while True:
                paging: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
                page: Any = client.query(TableName="q", Limit=4, **query, **paging)
                found.append(page["Items"])
                start = page.get("LastEvaluatedKey")
                if not start:
                    return found

        ours = [pages(q) for q in queries]
        monkeypatch.setattr(Table, "query", moto_patches.original_query)
        assert ours == [pages(q) for q in queries]
        assert sum(len(p) for p in ours[0]) == 17 and ours[1] == [[]]
