"""Real etcd only: every acknowledged write survives SIGKILL and restart on the same data."""

from __future__ import annotations

import threading

from kbook.controlplane.etcd import EtcdError, EtcdServer, prefix_end


def test_acknowledged_writes_survive_sigkill(etcd_server: EtcdServer):
    client = etcd_server.client()
    acked: dict[str, int] = {}
    stop = threading.Event()

    def write(n: int) -> None:
        i = 0
        while not stop.is_set():
            key = f"/d/{n}/{i:05d}"
            try:
                acked[key] = client.put(key, str(i).encode()).header.revision
            except (EtcdError, OSError):
                return
            i += 1

    writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in writers:
        t.start()
    while len(acked) < 300:
        threading.Event().wait(0.01)
    etcd_server.kill()  # while the writers are still writing
    stop.set()
    for t in writers:
        t.join()

    etcd_server.restart()  # same data directory and ports
    stored = {kv.key: kv.mod_revision for kv in client.range("/d/", prefix_end("/d/")).kvs}
    assert {k: stored.get(k) for k in acked} == acked
    assert client.revision >= max(acked.values())
