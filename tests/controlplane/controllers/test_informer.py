"""The shared informer: LIST then WATCH, the cache and its indexes, handlers, relist on 410,
retries with backoff, the synchronous mode of the node agents, selectors."""

from __future__ import annotations

from ctrl_helpers import replica_set

from kbook.api import LabelSelector, OwnerReference
from kbook.controlplane.controllers.informer import EventHandler, InformerFactory, SharedInformer
from kbook.eventlog import EventLog
from kbook.faults import Timeout


def test_list_watch_cache_and_handlers(env, fake):
    fake.create(replica_set("a", 1))
    factory = InformerFactory(env, fake)
    inf = factory.informer("ReplicaSet")
    seen = []
    inf.add_event_handler(EventHandler(lambda o: seen.append(("add", o.metadata.name)),
                                       lambda old, new: seen.append(("update", new.metadata.name)),
                                       lambda o: seen.append(("delete", o.metadata.name))))
    assert not factory.has_synced()
    factory.start()
    env.run(until=1)
    assert factory.has_synced() and inf.indexer.keys() == ["default/a"]
    b = replica_set("b", 2, {"app": "b", "tier": "web"})
    b.metadata.labels = {"tier": "web"}
    b.metadata.owner_references = [OwnerReference(kind="Deployment", name="d", uid="owner-1", controller=True)]
    fake.create(b)
    assert "default/b" not in inf.indexer.keys()  # applied in the informer's process, not in the handler
    env.run(until=2)
    assert [o.metadata.name for o in inf.indexer.by_owner("owner-1")] == ["b"]
    assert [o.metadata.name for o in inf.indexer.by_labels(LabelSelector({"tier": "web"}))] == ["b"]
    rs = fake.get("ReplicaSet", "a", "default")
    rs.spec.replicas = 3
    fake.update(rs)
    fake.delete("ReplicaSet", "b", "default")
    env.run(until=3)
    assert seen == [("add", "a"), ("add", "b"), ("update", "a"), ("delete", "b")]
    assert inf.indexer.by_owner("owner-1") == []
    assert inf.indexer.get("default/a").spec.replicas == 3


def test_relist_on_expired_watch(env, fake):
    factory = InformerFactory(env, fake)
    inf = factory.informer("ReplicaSet")
    deleted = []
    inf.add_event_handler(EventHandler(on_delete=lambda o: deleted.append(o.metadata.name)))
    fake.create(replica_set("a", 1))
    fake.create(replica_set("b", 1))
    factory.start()
    env.run(until=1)
    assert inf.lists == 1
    fake.expire_watches("ReplicaSet")
    # While the informer has no watch (backoff before the relist), the store changes.
    env.run(until=1.1)
    fake.delete("ReplicaSet", "a", "default")
    fake.create(replica_set("c", 1))
    env.run(until=3)
    assert inf.lists == 2
    assert inf.indexer.keys() == ["default/b", "default/c"]
    assert deleted == ["a"]  # the relist's Replace reports what disappeared
    fake.create(replica_set("d", 1))  # and the new watch works
    env.run(until=4)
    assert "default/d" in inf.indexer.keys()


def test_stop_ends_the_informer(env, fake):
    factory = InformerFactory(env, fake)
    inf = factory.informer("Pod")
    factory.start()
    env.run(until=1)
    factory.stop()
    env.run(until=2)
    assert not any(w.active for w in fake.watches)


def test_synchronous_informer_lists_in_start_and_applies_events_as_they_commit(env, fake):
    fake.create(replica_set("a", 1))
    inf = SharedInformer(env, fake, "ReplicaSet", synchronous=True)
    inf.start()
    assert inf.has_synced() and inf.indexer.keys() == ["default/a"]  # no simulated time needed
    fake.create(replica_set("b", 1))
    assert inf.indexer.keys() == ["default/a", "default/b"]  # applied in the watch callback



def test_synchronous_informer_retries_with_backoff_and_relists_after_a_watch_ends(env, fake):
    """ListAndWatch under BackoffUntil: a failed LIST is retried 0.8 s, 1.6 s, ... later (no
    jitter without a generator); an ended watch brings a fresh LIST."""
    down = {"on": True}
    real_list = fake.list

    def flaky_list(*args, **kwargs):
        if down["on"]:
            raise Timeout()
        return real_list(*args, **kwargs)

    fake.list = flaky_list
    log = EventLog()
    fake.create(replica_set("a", 1))
    inf = SharedInformer(env, fake, "ReplicaSet", synchronous=True, log=log, component="kubelet/n1")
    inf.start()  # does not raise
    assert not inf.has_synced()
    env.run(until=2.0)  # tries at 0, 0.8 and 2.4
    down["on"] = False
    env.run(until=3)
    assert inf.has_synced() and inf.indexer.keys() == ["default/a"]
    assert [(r.time, r.component, r.verb) for r in log.records] == [
        (0.0, "kubelet/n1", "ListAndWatchFailed"), (0.8, "kubelet/n1", "ListAndWatchFailed")]
    fake.expire_watches("ReplicaSet")
    fake.create(replica_set("b", 1))  # while no watch is open
    assert inf.indexer.keys() == ["default/a"]
    env.run(until=10)
    assert inf.lists == 2 and inf.indexer.keys() == ["default/a", "default/b"]
    fake.create(replica_set("c", 1))
    assert inf.indexer.keys() == ["default/a", "default/b", "default/c"]
    inf.stop()
    fake.create(replica_set("d", 1))
    assert "default/d" not in inf.indexer.keys() and not inf.running


def test_informer_passes_its_field_selector_to_list_and_watch(env, fake):
    calls = []
    real_list, real_watch = fake.list, fake.watch
    fake.list = lambda kind, **kw: calls.append(("list", kw.get("field_selector"))) or real_list(kind, **kw)
    fake.watch = lambda kind, h, **kw: calls.append(("watch", kw.get("field_selector"))) or real_watch(kind, h, **kw)
    SharedInformer(env, fake, "Pod", field_selector="spec.nodeName=n1", synchronous=True).start()
    assert calls == [("list", "spec.nodeName=n1"), ("watch", "spec.nodeName=n1")]
