"""Property tests of the embedded store: random operation sequences keep etcd's invariants,
and the watch stream is the store's history."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kbook.controlplane.etcd import (
    DELETE, MOD, VERSION, EQUAL, GREATER, Compare, DeleteOp, EmbeddedEtcd, EtcdError, KeyValue, PutOp, RangeOp,
    WatchResponse,
)

KEYS = st.sampled_from(["a", "a/1", "a/2", "b", "c"])
VALUES = st.binary(max_size=3)
OPS = st.one_of(
    st.tuples(st.just("put"), KEYS, VALUES),
    st.tuples(st.just("delete"), KEYS, st.sampled_from([None, "b", "\0"])),
    st.tuples(st.just("txn"), KEYS, st.integers(0, 3), KEYS, VALUES),
    st.tuples(st.just("compact"), st.floats(0, 1)),
    st.tuples(st.just("lease"), KEYS, st.integers(2, 4)),
    st.tuples(st.just("revoke"), st.integers(0, 3)),
    st.tuples(st.just("time"), st.floats(0, 3)),
)


def apply(s: EmbeddedEtcd, op: tuple, leases: list[int]) -> None:
    kind = op[0]
    if kind == "put":
        s.put(op[1], op[2])
    elif kind == "delete":
        s.delete_range(op[1], op[2])
    elif kind == "txn":
        target = [VERSION, MOD][op[2] % 2]
        s.txn([Compare(op[1], target, [EQUAL, GREATER][op[2] // 2], 0)],
              [PutOp(op[3], op[4]), RangeOp(op[1])], [DeleteOp(op[1])] if op[1] != op[3] else [])
    elif kind == "compact":
        s.compact(max(1, int(s.revision * op[1])))
    elif kind == "lease":
        lease = s.lease_grant(op[2])
        leases.append(lease.id)
        s.put(op[1], b"leased", lease=lease.id)
    elif kind == "revoke" and leases:
        s.lease_revoke(leases[op[1] % len(leases)])
    elif kind == "time":
        s.clock.advance(op[1])  # type: ignore[attr-defined]
        s.tick()


def replay(events, upto: int) -> dict[str, KeyValue]:
    state: dict[str, KeyValue] = {}
    for e in events:
        if e.kv.mod_revision > upto:
            break
        if e.type == DELETE:
            del state[e.kv.key]
        else:
            state[e.kv.key] = e.kv
    return state


@settings(max_examples=150)
@given(st.lists(OPS, max_size=40))
def test_watch_stream_is_the_history(ops):
    s = EmbeddedEtcd()
    responses: list[WatchResponse] = []
    s.watch("\0", responses.append, "\0")
    leases: list[int] = []
    revisions = [s.revision]
    for op in ops:
        try:
            apply(s, op, leases)
        except EtcdError:
            pass  # a compaction to an old revision, a revoke of a revoked lease
        # One write or txn adds at most one revision; a tick revokes each expired lease in its own txn.
        assert s.revision - revisions[-1] in ((0, 1) if op[0] != "time" else range(len(leases) + 1))
        revisions.append(s.revision)

    batches = [r for r in responses if r.events]
    assert all(len({e.kv.mod_revision for e in r.events}) == 1 for r in batches)  # one revision each
    assert [r.events[0].kv.mod_revision for r in batches] == list(range(2, s.revision + 1))  # no gaps or repeats
    events = [e for r in batches for e in r.events]
    assert all(e.kv.version == 0 for e in events if e.type == DELETE)
    assert replay(events, s.revision) == {kv.key: kv for kv in s.range("\0", "\0").kvs}

    first = max(s.compact_revision, 1)
    for rev in range(first, s.revision + 1):
        assert {kv.key: kv for kv in s.range("\0", "\0", revision=rev).kvs} == replay(events, rev)
    late: list[WatchResponse] = []
    s.watch("\0", late.append, "\0", start_revision=first)
    assert [e for r in late for e in r.events] == [e for e in events if e.kv.mod_revision >= first]
