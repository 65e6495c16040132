"""The shared informer: LIST then WATCH, the cache and its indexes, handlers, relist on 410."""

from __future__ import annotations

from ctrl_helpers import replica_set

from kbook.api import LabelSelector, OwnerReference
from kbook.controlplane.controllers.informer import EventHandler, InformerFactory


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
