"""moto's server, answering one request at a time.

moto's threaded server runs requests in parallel threads with no lock: a DynamoDB TransactWriteItems checks its
conditions and writes without isolation (it deep-copies every table it touches while other threads write them),
so under concurrent callers two conditional transactions can both succeed, and some requests fail with HTML 500s.
Real DynamoDB is atomic per transaction; the executor's safety rests on that. Serializing requests restores it.
SQS ReceiveMessage is left outside the lock so a long poll does not stall everyone else.

moto also backs up every table a transaction touches with copy.deepcopy, which costs O(table size) per
TransactWriteItems (about 120 ms at 300 items here) and made tests and benchmarks measure moto's copying. A
transaction only ever changes the items it names, so this server snapshots those items instead and restores
them when the transaction is cancelled: the same all-or-nothing result, at a cost independent of table size.

Usage: python serve_moto_serialized.py <host> <port>
"""

import copy
import sys
import threading
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


_original_transact_write_items = DynamoDBBackend.transact_write_items


def _touched_key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any] | None:
    table = backend.tables.get(op.get("TableName", ""))
    if table is None:
        return None
    if op_type != "Put":
        return op.get("Key")
    attrs = op.get("Item", {})
    key = {table.hash_key_attr: attrs.get(table.hash_key_attr)}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs.get(table.range_key_attr)
    return key


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    snapshots = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        key = _touched_key(self, op_type, op)
        if key is None:
            continue
        try:
            current = self.get_item(op["TableName"], key)
        except Exception:  # an invalid key: moto's own code reports it
            continue
        before = None if current is None else copy.deepcopy(current.to_json()["Attributes"])
        snapshots.append((op["TableName"], key, before))

    real_deepcopy = copy.deepcopy
    # moto's whole-table backup becomes a reference; every other deep copy stays real.
    copy.deepcopy = lambda value, memo=None: value if isinstance(value, Table) else real_deepcopy(value, memo)
    try:
        _original_transact_write_items(self, transact_items)
    except Exception:
        copy.deepcopy = real_deepcopy
        for table_name, key, before in reversed(snapshots):
            if before is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, before)
        raise
    finally:
        copy.deepcopy = real_deepcopy


DynamoDBBackend.transact_write_items = _transact_write_items


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialized(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET") == "AmazonSQS.ReceiveMessage":
            return app(environ, start_response)
        with lock:
            # Produce the whole body inside the lock: the app may be lazy.
            return list(app(environ, start_response))

    run_simple(host, port, serialized, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
