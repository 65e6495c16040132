"""The etcd v3 JSON gateway's encoding (grpc-gateway v1 as etcd 3.4/3.5 serve it): bytes as
base64, int64 as strings, proto field names, default values omitted, errors as
``{"error": msg, "code": n, "message": msg}`` (etcd ``Documentation/dev-guide/api_grpc_gateway.md``)."""

from __future__ import annotations

import base64
from typing import Any

from kbook.controlplane.etcd.types import (
    DELETE, PUT, Compare, DeleteOp, DeleteRangeResponse, ErrCompacted, ErrDuplicateKey, ErrEmptyKey, ErrFutureRev,
    ErrKeyNotFound, ErrLeaseExist, ErrLeaseNotFound, ErrTooManyOps, EtcdError, Event, KeyValue, Op, PutOp,
    PutResponse, RangeOp, RangeResponse, ResponseHeader, TxnResponse, WatchResponse,
)

Json = dict[str, Any]

_ERRORS: dict[str, type[EtcdError]] = {
    str(cls()): cls
    for cls in (ErrCompacted, ErrFutureRev, ErrLeaseNotFound, ErrLeaseExist, ErrKeyNotFound,
                ErrDuplicateKey, ErrTooManyOps, ErrEmptyKey)
}

_COMPARE_FIELD = {"VERSION": "version", "CREATE": "create_revision", "MOD": "mod_revision",
                  "LEASE": "lease", "VALUE": "value"}


def error(message: str) -> EtcdError:
    """The error class etcd's message names (``rpctypes.ErrGRPC*``), else a plain EtcdError."""
    cls = _ERRORS.get(message)
    return cls() if cls is not None else EtcdError(message)


def b64(data: str | bytes) -> str:
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    return base64.b64encode(raw).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


def key_of(text: str) -> str:
    return unb64(text).decode("utf-8", "surrogateescape")


def header(j: Json | None) -> ResponseHeader:
    j = j or {}
    return ResponseHeader(int(j.get("revision", 0)), int(j.get("cluster_id", 0)), int(j.get("member_id", 0)),
                          int(j.get("raft_term", 0)))


def key_value(j: Json) -> KeyValue:
    return KeyValue(key_of(j["key"]), unb64(j.get("value", "")), int(j.get("create_revision", 0)),
                    int(j.get("mod_revision", 0)), int(j.get("version", 0)), int(j.get("lease", 0)))


def event(j: Json) -> Event:
    prev = j.get("prev_kv")
    return Event(DELETE if j.get("type") == DELETE else PUT, key_value(j["kv"]),
                 key_value(prev) if prev else None)


def range_request(key: str, range_end: str | None, revision: int = 0, limit: int = 0,
                  keys_only: bool = False, count_only: bool = False) -> Json:
    body: Json = {"key": b64(key)}
    if range_end:
        body["range_end"] = b64(range_end)
    if revision:
        body["revision"] = str(revision)
    if limit:
        body["limit"] = str(limit)
    if keys_only:
        body["keys_only"] = True
    if count_only:
        body["count_only"] = True
    return body


def put_request(key: str, value: bytes, lease: int = 0, prev_kv: bool = False) -> Json:
    body: Json = {"key": b64(key), "value": b64(value)}
    if lease:
        body["lease"] = str(lease)
    if prev_kv:
        body["prev_kv"] = True
    return body


def delete_request(key: str, range_end: str | None, prev_kv: bool = False) -> Json:
    body: Json = {"key": b64(key)}
    if range_end:
        body["range_end"] = b64(range_end)
    if prev_kv:
        body["prev_kv"] = True
    return body


def compare(c: Compare) -> Json:
    value = b64(c.value) if isinstance(c.value, bytes) else str(c.value)
    body: Json = {"key": b64(c.key), "target": c.target, "result": c.result, _COMPARE_FIELD[c.target]: value}
    if c.range_end:
        body["range_end"] = b64(c.range_end)
    return body


def txn_request(cmp: tuple[Compare, ...], success: tuple[Op, ...], failure: tuple[Op, ...]) -> Json:
    return {"compare": [compare(c) for c in cmp], "success": [request_op(op) for op in success],
            "failure": [request_op(op) for op in failure]}


def request_op(op: Op) -> Json:
    if isinstance(op, RangeOp):
        return {"request_range": range_request(op.key, op.range_end, op.revision, op.limit, op.keys_only,
                                               op.count_only)}
    if isinstance(op, PutOp):
        return {"request_put": put_request(op.key, op.value, op.lease, op.prev_kv)}
    if isinstance(op, DeleteOp):
        return {"request_delete_range": delete_request(op.key, op.range_end, op.prev_kv)}
    return {"request_txn": txn_request(op.compare, op.success, op.failure)}


def range_response(j: Json) -> RangeResponse:
    return RangeResponse(header(j.get("header")), tuple(key_value(kv) for kv in j.get("kvs", ())),
                         bool(j.get("more", False)), int(j.get("count", 0)))


def put_response(j: Json) -> PutResponse:
    prev = j.get("prev_kv")
    return PutResponse(header(j.get("header")), key_value(prev) if prev else None)


def delete_response(j: Json) -> DeleteRangeResponse:
    return DeleteRangeResponse(header(j.get("header")), int(j.get("deleted", 0)),
                               tuple(key_value(kv) for kv in j.get("prev_kvs", ())))


def txn_response(j: Json) -> TxnResponse:
    responses: list[RangeResponse | PutResponse | DeleteRangeResponse | TxnResponse] = []
    for r in j.get("responses", ()):
        if "response_range" in r:
            responses.append(range_response(r["response_range"]))
        elif "response_put" in r:
            responses.append(put_response(r["response_put"]))
        elif "response_delete_range" in r:
            responses.append(delete_response(r["response_delete_range"]))
        else:
            responses.append(txn_response(r["response_txn"]))
    return TxnResponse(header(j.get("header")), bool(j.get("succeeded", False)), tuple(responses))


def watch_response(j: Json) -> WatchResponse:
    return WatchResponse(header(j.get("header")), int(j.get("watch_id", 0)),
                         tuple(event(e) for e in j.get("events", ())), bool(j.get("created", False)),
                         bool(j.get("canceled", False)), int(j.get("compact_revision", 0)),
                         j.get("cancel_reason", ""))
