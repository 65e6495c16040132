"""Real etcd behind the store interface, through its v3 JSON gateway with the standard
library only (etcd ``api/etcdserverpb/rpc.proto`` ``google.api.http`` paths)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request

from kbook.controlplane.etcd import gateway
from kbook.controlplane.etcd.gateway import Json
from kbook.controlplane.etcd.types import (
    Compare, DeleteRangeResponse, ErrLeaseNotFound, EtcdError, LeaseGrant, LeaseTimeToLive, Op, PutResponse,
    RangeResponse, ResponseHeader, TxnResponse, WatchHandler, WatchResponse,
)


class RemoteEtcd:
    """A client of one etcd endpoint (``http://host:port``) implementing :class:`Store`."""

    def __init__(self, endpoint: str, timeout: float = 10.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout

    def _call(self, path: str, body: Json) -> Json:
        request = urllib.request.Request(self.endpoint + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                message = json.loads(raw).get("error") or json.loads(raw).get("message")
            except ValueError:
                message = None
            raise gateway.error(message or f"HTTP {e.code}: {raw[:200]!r}") from None

    @property
    def revision(self) -> int:
        return self.range("\0", count_only=True).header.revision

    def range(self, key: str, range_end: str | None = None, revision: int = 0, limit: int = 0,
              keys_only: bool = False, count_only: bool = False) -> RangeResponse:
        body = gateway.range_request(key, range_end, revision, limit, keys_only, count_only)
        return gateway.range_response(self._call("/v3/kv/range", body))

    def put(self, key: str, value: bytes, lease: int = 0, prev_kv: bool = False) -> PutResponse:
        return gateway.put_response(self._call("/v3/kv/put", gateway.put_request(key, value, lease, prev_kv)))

    def delete_range(self, key: str, range_end: str | None = None, prev_kv: bool = False) -> DeleteRangeResponse:
        body = gateway.delete_request(key, range_end, prev_kv)
        return gateway.delete_response(self._call("/v3/kv/deleterange", body))

    def txn(self, compare: tuple[Compare, ...] | list[Compare], success: tuple[Op, ...] | list[Op] = (),
            failure: tuple[Op, ...] | list[Op] = ()) -> TxnResponse:
        body = gateway.txn_request(tuple(compare), tuple(success), tuple(failure))
        return gateway.txn_response(self._call("/v3/kv/txn", body))

    def compact(self, revision: int) -> None:
        self._call("/v3/kv/compaction", {"revision": str(revision), "physical": True})

    def watch(self, key: str, handler: WatchHandler, range_end: str | None = None, start_revision: int = 0,
              prev_kv: bool = False) -> "RemoteWatch":
        create: Json = {"key": gateway.b64(key)}
        if range_end:
            create["range_end"] = gateway.b64(range_end)
        if start_revision:
            create["start_revision"] = str(start_revision)
        if prev_kv:
            create["prev_kv"] = True
        return RemoteWatch(self.endpoint, {"create_request": create}, handler, self.timeout)

    def lease_grant(self, ttl: int, lease_id: int = 0) -> LeaseGrant:
        j = self._call("/v3/lease/grant", {"TTL": str(ttl), "ID": str(lease_id)})
        return LeaseGrant(int(j["ID"]), int(j["TTL"]))

    def lease_revoke(self, lease_id: int) -> None:
        self._call("/v3/lease/revoke", {"ID": str(lease_id)})

    def lease_keepalive(self, lease_id: int) -> int:
        """One keep-alive; a lease that is gone answers TTL 0 (clientv3 ``KeepAliveOnce``)."""
        ttl = int(self._call("/v3/lease/keepalive", {"ID": str(lease_id)})["result"].get("TTL", 0))
        if ttl <= 0:
            raise ErrLeaseNotFound()
        return ttl

    def lease_time_to_live(self, lease_id: int, keys: bool = False) -> LeaseTimeToLive:
        j = self._call("/v3/lease/timetolive", {"ID": str(lease_id), "keys": keys})
        return LeaseTimeToLive(int(j.get("ID", lease_id)), int(j.get("TTL", 0)), int(j.get("grantedTTL", 0)),
                               tuple(sorted(gateway.key_of(k) for k in j.get("keys", ()))))


class RemoteWatch:
    """One ``/v3/watch`` stream: created when etcd confirms it, then read by a daemon thread
    that hands each response to the handler; :meth:`cancel` closes the stream."""

    def __init__(self, endpoint: str, request: Json, handler: WatchHandler, timeout: float) -> None:
        url = urllib.parse.urlsplit(endpoint)
        self._handler = handler
        self._canceled = False
        self._conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
        self._conn.request("POST", "/v3/watch", json.dumps(request).encode(), {"Content-Type": "application/json"})
        self._resp = self._conn.getresponse()
        created = self._read()
        if created is None or not created.created:
            self._close()
            raise EtcdError(f"etcd did not create the watch: {created}")
        self.watch_id = created.watch_id
        self._conn.sock.settimeout(None)
        self._thread = threading.Thread(target=self._run, args=(created,), name="etcd-watch", daemon=True)
        self._thread.start()

    def _read(self) -> WatchResponse | None:
        line = self._resp.readline()
        if not line:
            return None
        j = json.loads(line)
        if "error" in j:
            err = j["error"]
            return WatchResponse(ResponseHeader(0), -1, canceled=True,
                                 cancel_reason=err.get("message", str(err)) if isinstance(err, dict) else str(err))
        return gateway.watch_response(j["result"])

    def _run(self, first: WatchResponse) -> None:
        resp: WatchResponse | None = first
        while resp is not None and not self._canceled:
            self._handler(resp)
            if resp.canceled:
                break
            try:
                resp = self._read()
            except (OSError, ValueError, http.client.HTTPException) as e:
                resp = None if self._canceled else WatchResponse(ResponseHeader(0), self.watch_id, canceled=True,
                                                                 cancel_reason=f"watch stream broken: {e}")
                if resp is not None:
                    self._handler(resp)
                break
            if resp is None and not self._canceled:
                self._handler(WatchResponse(ResponseHeader(0), self.watch_id, canceled=True,
                                            cancel_reason="watch stream closed by the server"))
        self._close()

    def _shutdown(self) -> None:
        sock = self._conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _close(self) -> None:
        self._shutdown()
        self._conn.close()

    def cancel(self) -> None:
        """Stop the watch: no handler call starts after this returns (unless called from one).
        The socket is shut down here; the reading thread closes the connection."""
        self._canceled = True
        if threading.current_thread() is not self._thread:
            self._shutdown()
            self._thread.join(timeout=5)
