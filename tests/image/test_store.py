"""The shared layer store: one copy per layer, reference counts, and pulls that skip what
is already there (by ChainID as docker does, by blob digest as containerd does)."""

import random

import pytest

from kbook.errors import ImageError
from kbook.image import (
    DIR, DOWNLOAD, EXISTS, FILE, UNPACK, Descriptor, Entry, Image, Layer, LayerStore, layer_descriptor, load_images,
    write_oci_layout,
)


def layer(name: str, size: int) -> Layer:
    data = random.Random(name).randbytes(size)  # incompressible: blob size ~ content size
    return Layer.from_entries([Entry(f"{name}/", DIR), Entry(f"{name}/blob", FILE, data=data)])


BASE = layer("base", 200_000)
RUNTIME = layer("runtime", 50_000)
APPS = [layer(f"app{i}", 5_000) for i in range(5)]


def app(i: int, base: tuple[Layer, ...] = (BASE, RUNTIME)) -> Image:
    return Image(base + (APPS[i],), config={"Cmd": [f"/app{i}/run"]})


def gz(l: Layer) -> int:
    return layer_descriptor(l).size


def test_n_images_on_a_common_base_store_it_once():
    store = LayerStore()
    for i in range(5):
        store.add(app(i), f"app{i}")
    assert len(store) == 7
    assert store.refcount(BASE.diff_id) == 5 and store.refcount(APPS[0].diff_id) == 1
    assert store.stored_bytes == BASE.size + RUNTIME.size + sum(a.size for a in APPS)
    assert store.logical_bytes == 5 * (BASE.size + RUNTIME.size) + sum(a.size for a in APPS)
    assert store.logical_bytes / store.stored_bytes > 4
    assert store.blob_bytes == gz(BASE) + gz(RUNTIME) + sum(gz(a) for a in APPS)
    assert store.refs == [f"app{i}" for i in range(5)]
    assert store.get("app3").config_digest == app(3).config_digest


def test_add_returns_what_was_new():
    store = LayerStore()
    assert store.add(app(0), "app0") == (BASE.diff_id, RUNTIME.diff_id, APPS[0].diff_id)
    assert store.add(app(1), "app1") == (APPS[1].diff_id,)
    assert store.add(app(1), "app1-again") == ()


def test_remove_frees_only_layers_no_image_uses():
    store = LayerStore()
    for i in range(3):
        store.add(app(i), f"app{i}")
    assert store.remove("app0") == (APPS[0].diff_id,)
    assert not store.has(APPS[0].diff_id) and store.has(BASE.diff_id)
    assert store.refcount(BASE.diff_id) == 2
    assert store.remove("app1") == (APPS[1].diff_id,)
    assert store.remove("app2") == (BASE.diff_id, RUNTIME.diff_id, APPS[2].diff_id)
    assert len(store) == 0 and store.stored_bytes == store.logical_bytes == store.blob_bytes == 0
    assert not store.has_blob(layer_descriptor(BASE).digest) and not store.has_chain(app(2).chain_ids[0])


def test_an_image_under_two_tags_is_untagged_first_and_deleted_last():
    store = LayerStore()
    store.add(app(0), "app:1")
    store.add(app(0), "app:latest")
    assert store.refcount(BASE.diff_id) == 1 and store.logical_bytes == store.stored_bytes
    assert store.remove("app:1") == ()
    assert store.remove("app:latest") == (BASE.diff_id, RUNTIME.diff_id, APPS[0].diff_id)


def test_moving_a_tag_frees_the_old_images_own_layers():
    store = LayerStore()
    store.add(app(0), "app")
    store.add(app(1), "app")
    assert store.refs == ["app"] and not store.has(APPS[0].diff_id) and store.has(APPS[1].diff_id)
    assert store.refcount(BASE.diff_id) == 1


def test_removing_an_unknown_image_in_the_daemons_words():
    with pytest.raises(ImageError, match="^No such image: nope$"):
        LayerStore().remove("nope")
    with pytest.raises(ImageError, match="^No such image: nope$"):
        LayerStore().get("nope")


def test_cold_pull_downloads_every_blob():
    plan = LayerStore().plan_pull(app(0))
    assert [p.action for p in plan.layers] == [DOWNLOAD] * 3
    assert plan.download_bytes == gz(BASE) + gz(RUNTIME) + gz(APPS[0]) and plan.present_bytes == 0
    assert plan.seconds(1_000_000) == pytest.approx(plan.download_bytes / 1e6)
    assert [p.chain_id for p in plan.layers] == app(0).chain_ids
    assert [p.diff_id for p in plan.layers] == app(0).diff_ids


def test_warm_pull_skips_the_shared_base():
    store = LayerStore()
    store.add(app(0), "app0")
    plan = store.plan_pull(app(1))
    assert [p.action for p in plan.layers] == [EXISTS, EXISTS, DOWNLOAD]
    assert [p.index for p in plan.missing] == [2]
    assert plan.download_bytes == gz(APPS[1])
    assert plan.present_bytes == gz(BASE) + gz(RUNTIME)
    cold = LayerStore().plan_pull(app(1))
    assert plan.seconds(1e6) < cold.seconds(1e6) / 10
    assert store.plan_pull(app(0)).download_bytes == 0


def test_a_known_blob_on_another_parent_is_unpacked_not_downloaded():
    store = LayerStore()
    store.add(app(0), "app0")
    other = Image((RUNTIME, APPS[0]))  # same layers, another stack: other ChainIDs
    plan = store.plan_pull(other)
    assert [p.action for p in plan.layers] == [UNPACK, UNPACK]
    assert plan.download_bytes == 0 and plan.present_bytes == gz(RUNTIME) + gz(APPS[0])


def test_a_layer_twice_in_one_image_is_downloaded_once():
    twice = Image((BASE, APPS[0], APPS[0]))
    plan = LayerStore().plan_pull(twice)
    assert [p.action for p in plan.layers] == [DOWNLOAD, DOWNLOAD, UNPACK]
    store = LayerStore()
    store.add(twice, "twice")
    assert store.refcount(APPS[0].diff_id) == 2
    assert store.remove("twice") == (BASE.diff_id, APPS[0].diff_id)


def test_blobs_as_a_registry_serves_them(tmp_path):
    """The same DiffID under another blob digest (plain, not gzip) is another download for a
    content store, unless its ChainID is already there."""
    plain = [Descriptor.of("application/vnd.oci.image.layer.v1.tar", l.tar) for l in app(0).layers]
    store = LayerStore()
    store.add(app(0), "app0", blobs=plain)
    assert store.has_blob(plain[0].digest) and not store.has_blob(layer_descriptor(BASE).digest)
    assert store.plan_pull(app(0)).download_bytes == 0  # ChainIDs present
    plan = store.plan_pull(Image((RUNTIME,)))  # same DiffID, gzip blob not in the store
    assert [p.action for p in plan.layers] == [DOWNLOAD]
    with pytest.raises(ImageError, match="2 blob descriptors for 3 layers"):
        store.add(app(1), "app1", blobs=plain[:2])


def test_images_read_from_a_layout_keep_their_blobs(tmp_path):
    write_oci_layout({"app0": app(0), "app1": app(1)}, tmp_path, compression=None)
    store = LayerStore()
    for ref, stored in load_images(tmp_path).items():
        store.add(stored.image, ref, stored.layers)
    assert store.blob_bytes == BASE.size + RUNTIME.size + APPS[0].size + APPS[1].size


def test_bandwidth_must_be_positive():
    with pytest.raises(ImageError, match="bandwidth 0: must be greater than 0"):
        LayerStore().plan_pull(app(0)).seconds(0)
