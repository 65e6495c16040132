"""The in-memory applier: changeset rules, whiteouts, hardlinks, and every attack class of
the reference notes (unionfs.md §7) contained or refused, nothing outside the root."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kbook.errors import ImageError
from kbook.image.layer import BLOCK, CHAR, DIR, FIFO, FILE, HARDLINK, SYMLINK, Entry, Layer, clean_path
from kbook.image.tree import MAX_SYMLINK_HOPS, Node, Tree

SENTINEL = "/tmp/kbook-escape-sentinel"


def F(name, data=b"x", mode=0o644, **kw):
    return Entry(name, FILE, mode, data=data, **kw)


def D(name, mode=0o755, **kw):
    return Entry(name, DIR, mode, **kw)


def S(name, target, mode=0o777, **kw):
    return Entry(name, SYMLINK, mode, linkname=target, **kw)


def H(name, target, mode=0o644, **kw):
    return Entry(name, HARDLINK, mode, linkname=target, **kw)


def W(name):
    return Entry(name, FILE, 0o644)


def layer(*entries):
    return Layer.from_entries(entries)


def build(*layers):
    return Tree.from_layers([layer(*entries) for entries in layers])


def data(tree, path):
    node = tree.get(path)
    assert node is not None and node.type == FILE, path
    return node.data


def assert_contained(tree):
    """Every path is a cleaned path below the root, its parent a directory in the tree."""
    for p in tree.paths():
        assert clean_path(p) == p and not p.startswith("/") and ".." not in p.split("/")
        if p != ".":
            parent = p.rpartition("/")[0] or "."
            assert tree.get(parent).type == DIR and p.rpartition("/")[2] in tree.children(parent)


# -- the changeset rules --------------------------------------------------------------------

def test_empty_tree_is_a_root_dir():
    t = Tree()
    assert t.records() == [{"path": ".", "type": "dir", "mode": "0755", "uid": 0, "gid": 0, "mtime": None}]
    assert len(t) == 1 and t.file_count == 0 and t.paths() == ["."]


def test_add_modify_delete_and_lower_metadata_survives():
    t = build(
        [D("./etc", mtime=1), F("./etc/cfg", b"old"), D("./bin", mtime=1), F("./bin/tool", b"v1", 0o755)],
        [F("./bin/tool", b"v2", 0o750, uid=1000, gid=1000, mtime=2), W("./etc/.wh.cfg"), F("./etc/new.d/x")],
    )
    assert t.paths() == [".", "bin", "bin/tool", "etc", "etc/new.d", "etc/new.d/x"]
    tool = t.get("bin/tool")
    assert (tool.data, tool.mode, tool.uid, tool.gid, tool.mtime, tool.layer) == (b"v2", 0o750, 1000, 1000, 2, 1)
    assert t.get("etc").mtime == 1 and t.get("etc").layer == 0  # not re-declared: untouched


def test_dir_over_dir_replaces_attributes_keeps_children_and_clears_xattrs():
    t = build([D("d"), F("d/f")], [D("d", 0o700, uid=5, xattrs={"user.note": b"v1"}, mtime=7)])
    assert t.get("d").xattrs == {"user.note": b"v1"} and t.get("d/f") is not None
    t.apply(layer(D("d", 0o711, uid=5, mtime=9)), 2)
    d = t.get("d")
    assert (d.mode, d.uid, d.mtime, d.xattrs, d.layer) == (0o711, 5, 9, {}, 2)
    assert t.children("d") == ["f"]


def test_non_dir_over_dir_removes_the_subtree():
    t = build([D("d"), D("d/sub"), F("d/sub/g"), F("d/f"), D("t")], [S("d", "t")])
    assert t.paths() == [".", "d", "t"] and t.get("d").type == SYMLINK
    t.apply(layer(F("t")))
    assert t.get("t").type == FILE


def test_dir_over_symlink_replaces_the_symlink_and_does_not_follow_it():
    t = build([D("usr"), D("usr/lib"), F("usr/lib/libc.so"), S("lib", "usr/lib")], [D("lib"), F("lib/x")])
    assert t.get("lib").type == DIR and t.children("lib") == ["x"]
    assert t.children("usr/lib") == ["libc.so"]


def test_a_later_entry_at_a_symlink_path_replaces_the_symlink():
    t = build([F("real", b"keep"), S("l", "real")], [F("l", b"new")])
    assert data(t, "real") == b"keep" and data(t, "l") == b"new"


def test_implied_parents_are_0755_root_owned_with_mtime_now():
    t = build([F("deep/nested/file", uid=7, mtime=3)], [F("deep/other", mtime=4)])
    for p in ("deep", "deep/nested"):
        n = t.get(p)
        assert (n.type, n.mode, n.uid, n.gid, n.mtime, n.layer) == (DIR, 0o755, 0, 0, None, 0)


def test_root_entry_sets_root_attributes_otherwise_mtime_is_now():
    assert build([F("f")]).get(".").mtime is None
    t = build([D("./", 0o750, uid=3, mtime=5, xattrs={"user.a": b"1"}), F("f")])
    root = t.get(".")
    assert (root.mode, root.uid, root.mtime, root.xattrs) == (0o750, 3, 5, {"user.a": b"1"})


@pytest.mark.parametrize("entry", [S("./", SENTINEL), F("."), H("/", "f"), Entry("./", FIFO)])
def test_the_root_cannot_change_type(entry):
    t = build([F("f")])
    with pytest.raises(ImageError, match="root directory"):
        t.apply(layer(entry))
    assert t.get(".").type == DIR


def test_duplicate_entries_last_one_wins():
    t = build([F("f", b"1"), F("f", b"2"), D("d", 0o700), D("d", 0o701)])
    assert data(t, "f") == b"2" and t.get("d").mode == 0o701


def test_symlinks_are_verbatim_and_0777():
    targets = ["/abs/target", "../../x/y", ".", "..", "dangling", "self"]
    t = build([S(f"l{i}", target, mode=0o644) for i, target in enumerate(targets)] + [S("self", "self")])
    assert [t.get(f"l{i}").linkname for i in range(len(targets))] == targets
    assert {t.get(p).mode for p in t.paths() if p != "."} == {0o777}


def test_empty_symlink_target_is_refused():
    with pytest.raises(ImageError, match="empty target"):
        build([S("l", "")])


def test_device_nodes_and_fifos_are_kept_as_nodes():
    t = build([Entry("dev/null", CHAR, 0o666, devmajor=1, devminor=3), Entry("dev/sda", BLOCK, 0o660, devmajor=8),
               Entry("dev/zero0", CHAR, 0), Entry("p", FIFO, 0o600)])
    recs = {r["path"]: r for r in t.records()}
    assert recs["dev/null"]["rdev"] == [1, 3] and recs["dev/sda"]["type"] == "block"
    assert recs["dev/zero0"] == {"path": "dev/zero0", "type": "char", "mode": "0000", "uid": 0, "gid": 0,
                                 "mtime": 0, "rdev": [0, 0], "nlink": 1}
    assert recs["p"]["type"] == "fifo"


def test_forbidden_xattrs_are_dropped():
    x = {"trusted.overlay.opaque": b"y", "trusted.overlay.redirect": b"/x", "security.selinux": b"ctx",
         "system.nfs4_acl": b"acl", "user.keep": b"1", "security.capability": b"cap"}
    t = build([D("d", xattrs=x), F("d/f", xattrs=x)])
    assert t.get("d").xattrs == t.get("d/f").xattrs == {"user.keep": b"1", "security.capability": b"cap"}
    assert t.records()[1]["xattrs"] == {"security.capability": "cap", "user.keep": "1"}


def test_each_node_remembers_the_layer_that_wrote_it():
    t = build([D("d"), F("d/a"), F("b")], [F("b"), D("d")])
    assert [t.get(p).layer for p in ("d", "d/a", "b")] == [1, 0, 1]
    t.apply(layer(F("c")))
    assert t.get("c").layer is None


# -- whiteouts ------------------------------------------------------------------------------

def test_whiteouts_remove_files_dirs_and_symlinks_not_their_targets():
    t = build([D("a"), F("a/x"), F("a/y"), D("d"), D("d/sub"), F("d/sub/f"), F("t"), S("l", "t")],
              [W("a/.wh.x"), W(".wh.d"), W(".wh.l")])
    assert t.paths() == [".", "a", "a/y", "t"]


def test_whiteout_parent_resolves_through_an_in_root_symlink():
    t = build([D("real"), F("real/x"), S("o", "real")], [W("o/.wh.x")])
    assert t.children("real") == [] and t.get("o").type == SYMLINK


def test_whiteouts_of_missing_paths_are_noops_and_never_create_parents():
    t = build([D("a"), F("a/f"), F("file")], [W(".wh.ghost"), W("nodir/.wh.x"), W("newopq/.wh..wh..opq"),
                                             W("file/.wh.x"), W("a/f/.wh..wh..opq")])
    assert t.paths() == [".", "a", "a/f", "file"]


@pytest.mark.parametrize("name", [".wh.", ".wh..", ".wh...", "etc/.wh.", "etc/.wh..", "etc/.wh...", "/.wh..."])
def test_whiteout_names_empty_dot_and_dotdot_are_refused(name):
    t = build([D("etc"), F("etc/passwd"), F("keep")])
    before = t.records()
    with pytest.raises(ImageError, match="invalid whiteout name"):
        t.apply(layer(F("etc/new"), W(name)))
    assert t.records() == before


def test_whiteout_after_add_in_the_same_layer_hides_only_the_lower_path():
    t = build([F("f", b"v0"), F("g")], [F("f", b"v1"), D("newd"), F("newd/a"), W(".wh.f"), W(".wh.newd")])
    assert data(t, "f") == b"v1" and t.paths() == [".", "f", "g", "newd", "newd/a"]


def test_whiteout_before_add_in_the_same_layer_recreates():
    t = build([F("f", b"v0"), D("d"), F("d/old")], [W(".wh.f"), F("f", b"v1"), W(".wh.d"), D("d", 0o700), F("d/new")])
    assert data(t, "f") == b"v1" and t.children("d") == ["new"] and t.get("d").mode == 0o700


def test_whiteout_of_a_dir_this_layer_writes_into_hides_only_lower_children():
    t = build([D("d", 0o711), F("d/old")], [F("d/new"), W(".wh.d")])
    assert t.children("d") == ["new"] and t.get("d").mode == 0o711


def test_opaque_hides_every_lower_child_and_keeps_the_dir():
    t = build([D("bin"), F("bin/a"), D("bin/tools"), F("bin/tools/b"), D("etc"), F("etc/c")],
              [D("bin", 0o700, uid=7), W("bin/.wh..wh..opq")])
    assert t.children("bin") == [] and t.get("bin").mode == 0o700 and t.children("etc") == ["c"]


def test_opaque_is_applied_first_whatever_its_position():
    lower = [D("a"), D("a/b"), D("a/b/c"), F("a/b/c/bar"), F("a/z")]
    new = [D("a", mtime=2), D("a/b", mtime=2), D("a/b/c", mtime=2), F("a/b/c/foo")]
    before = build(lower, [new[0], W("a/.wh..wh..opq"), *new[1:]])
    after = build(lower, [*new, W("a/.wh..wh..opq")])
    assert before.records() == after.records()
    assert before.paths() == [".", "a", "a/b", "a/b/c", "a/b/c/foo"]


def test_opaque_root_and_opaque_through_a_symlink():
    t = build([F("x"), D("real"), F("real/y"), S("l", "real")], [W("l/.wh..wh..opq")])
    assert t.children("real") == []
    t.apply(layer(F("new"), W("./.wh..wh..opq")))
    assert t.paths() == [".", "new"]


def test_aufs_metadata_names_follow_umoci():
    t = build([D(".wh..wh.plnk"), F(".wh..wh.plnk/123.456"), W(".wh..wh.aufs")])
    assert t.paths() == [".", ".wh..wh.plnk", ".wh..wh.plnk/123.456"]
    assert t.get(".wh..wh.plnk").mtime is None  # its own entry is a (no-op) whiteout


# -- hardlinks ------------------------------------------------------------------------------

def test_hardlinks_in_one_layer_share_one_inode():
    t = build([F("a", b"data", 0o640, uid=3, gid=4), H("b", "a"), D("sub"), H("sub/c", "a")])
    assert t.get("a") is t.get("b") is t.get("sub/c") and t.get("a").nlink == 3
    groups = {r["path"]: r.get("hardlink_group") for r in t.records() if r["type"] == "file"}
    assert groups == {"a": "a", "b": "a", "sub/c": "a"}


def test_hardlink_header_metadata_is_ignored():
    t = build([F("a", mode=0o600, uid=1), H("b", "a", mode=0o777, uid=9, mtime=99)])
    assert (t.get("b").mode, t.get("b").uid, t.get("b").mtime) == (0o600, 1, 0)


def test_cross_layer_hardlink_then_rewrite_breaks_the_link():
    t = build([F("a", b"old")], [H("b", "a")])
    assert t.get("a") is t.get("b") and t.get("a").nlink == 2 and t.get("b").layer == 0
    t.apply(layer(F("a", b"new")), 2)
    assert data(t, "a") == b"new" and data(t, "b") == b"old"
    assert t.get("a").nlink == t.get("b").nlink == 1 and "hardlink_group" not in t.records()[-1]


def test_hardlink_made_before_its_target_is_replaced_keeps_the_old_inode():
    t = build([F("a", b"old")], [H("b", "a"), F("a", b"new")])
    assert data(t, "b") == b"old" and data(t, "a") == b"new"


def test_whiting_out_one_name_keeps_the_others():
    t = build([F("a", b"x"), H("b", "a")], [W(".wh.a")])
    assert t.paths() == [".", "b"] and t.get("b").nlink == 1


def test_hardlink_to_a_symlink_links_the_symlink_inode():
    t = build([S("esc", SENTINEL + "/target-file"), H("h", "esc")])
    assert t.get("h") is t.get("esc") and t.get("h").type == SYMLINK and t.get("h").nlink == 2


def test_hardlink_targets_are_normalised_into_the_root():
    t = build([D("etc"), F("etc/passwd"), D("x"), S("x/up", "../.."), H("abs", "/etc/passwd"),
               H("rel", "../../../etc/passwd"), H("via", "x/up/etc/passwd")])
    assert t.get("abs") is t.get("rel") is t.get("via") is t.get("etc/passwd") and t.get("abs").nlink == 4


@pytest.mark.parametrize("entries", [
    [H("h", "/etc/shadow")],                           # absolute host path: re-rooted, missing
    [H("h", "../../../../etc/shadow")],                # dot-dot: clamped, missing
    [S("evil", "/etc"), H("h", "evil/shadow")],        # via a parent symlink: resolved in the root
    [D("d"), H("h", "d")],                             # a directory
    [H("h", "/")],                                     # the root
    [F("a"), H("a", "a")],                             # itself: unlinked first, as umoci does
    [H("h", "later"), F("later")],                     # a target that comes later
])
def test_hardlink_targets_must_exist_and_not_be_directories(entries):
    with pytest.raises(ImageError, match="hardlink target"):
        build(entries)


# -- containment: every attack class of unionfs.md §7 ------------------------------------------

def test_absolute_names_are_relative_to_the_root():
    t = build([F(SENTINEL + "/abs-file"), F("/abs-top")])
    assert t.get("tmp/kbook-escape-sentinel/abs-file") is not None and t.get("abs-top") is not None
    assert_contained(t)


def test_dotdot_is_clamped_at_the_root():
    t = build([F("../" * 12 + "tmp/kbook-escape-sentinel/dotdot-file"), D("a"), F("a/../../escape2")])
    assert t.paths() == [".", "a", "escape2", "tmp", "tmp/kbook-escape-sentinel",
                         "tmp/kbook-escape-sentinel/dotdot-file"]


@pytest.mark.parametrize("target", [SENTINEL, "../" * 12 + "tmp/kbook-escape-sentinel", "/../../tmp/kbook-escape-sentinel"])
def test_parent_symlinks_resolve_inside_the_root(target):
    t = build([S("evil", target)], [F("evil/pwned")])
    assert t.get("evil").linkname == target
    assert data(t, "tmp/kbook-escape-sentinel/pwned") == b"x"
    assert_contained(t)


def test_chained_and_relative_parent_symlinks():
    t = build([D("real"), S("a", "b/.."), S("b", "/real"), S("c", "a/../real")], [F("c/f"), F("b/g")])
    assert t.children("real") == ["f", "g"]


def test_symlink_swap_in_one_layer_is_contained():
    t = build([D("foo"), D("foo/tmp"), F("foo/tmp/f"), S("foo", "/"), F("foo/tmp/kbook-escape-sentinel/same-layer"),
               D("foo"), D("foo/tmp"), F("foo/tmp/f")])
    assert data(t, "tmp/kbook-escape-sentinel/same-layer") == b"x" and t.get("foo").type == DIR
    assert_contained(t)


def test_writing_below_a_non_directory_is_refused():
    with pytest.raises(ImageError, match="not a directory"):
        build([F("f")], [F("f/x")])
    with pytest.raises(ImageError, match="not a directory"):
        build([F("f"), S("l", "f")], [F("l/x")])


@pytest.mark.parametrize("links", [
    [S("a", "b"), S("b", "a")],
    [S("self", "self")],
    [S("grow", "grow/x")],
])
def test_symlink_loops_fail_with_eloop(links):
    t = build(links)
    before = t.records()
    with pytest.raises(ImageError, match="too many levels of symbolic links"):
        t.apply(layer(F("ok"), F(f"{links[0].name}/victim")))
    with pytest.raises(ImageError, match="too many levels"):
        t.apply(layer(W(f"{links[0].name}/.wh.x")))
    assert t.records() == before
    assert t.resolve(links[0].name + "/victim") is None


def test_the_hop_limit_is_255():
    chain = [D("end")] + [S(f"s{i}", f"s{i + 1}") for i in range(MAX_SYMLINK_HOPS - 1)] + [
        S(f"s{MAX_SYMLINK_HOPS - 1}", "end")]
    t = build(chain)
    t.apply(layer(F("s0/ok")))  # exactly 255 hops
    assert t.children("end") == ["ok"]
    t.apply(layer(S("s-1", "s0")))
    with pytest.raises(ImageError, match="too many levels"):
        t.apply(layer(F("s-1/no")))


# -- all or nothing, copies, the read API --------------------------------------------------

def test_a_failing_layer_changes_nothing():
    t = build([D("d", xattrs={"user.a": b"1"}), F("d/f", b"1"), F("h1", b"h"), H("h2", "h1"), D("o"), F("o/x")])
    before, inodes = t.records(), {p: t.get(p) for p in t.paths()}
    nlinks = {p: n.nlink for p, n in inodes.items()}
    bad = layer(D("./", 0o700), D("d", 0o700), F("d/f", b"2"), F("h1", b"new"), W(".wh.h2"), S("o", "/"),
                F("new/deep/file"), H("h3", "d/f"), W("o/.wh..wh..opq"), W("d/.wh."))
    with pytest.raises(ImageError):
        t.apply(bad, 1)
    assert t.records() == before
    assert {p: t.get(p) for p in t.paths()} == inodes and {p: n.nlink for p, n in inodes.items()} == nlinks
    assert t.file_count == 4 and len(t) == 7


def test_copy_is_independent_and_keeps_hardlinks():
    t = build([F("a"), H("b", "a"), D("d", xattrs={"user.x": b"1"})])
    c = t.copy()
    assert c.records() == t.records() and c.get("a") is c.get("b") and c.get("a") is not t.get("a")
    c.apply(layer(F("a", b"new"), W(".wh.d")))
    c.get("b").xattrs["user.y"] = b"2"
    assert t.paths() == [".", "a", "b", "d"] and data(t, "a") == b"x" and t.get("a").nlink == 2
    assert t.get("b").xattrs == {} and t.get("d").xattrs == {"user.x": b"1"}


def test_get_resolve_children_paths():
    t = build([D("usr/lib"), F("usr/lib/libc.so"), S("lib", "usr/lib"), S("abs", "/usr/../usr/lib"), F("f"),
               S("up", "../../..")])
    assert t.get("./usr//lib/") is t.get("usr/lib") and t.get("lib").type == SYMLINK and t.get("missing") is None
    assert t.resolve("lib/libc.so") == "usr/lib/libc.so" and t.resolve("/abs/libc.so") == "usr/lib/libc.so"
    assert t.resolve("lib", follow_final=False) == "lib" and t.resolve("lib") == "usr/lib"
    assert t.resolve("up") == "." and t.resolve("up/up/f") == "f" and t.resolve("lib/missing/x") == "usr/lib/missing/x"
    assert t.resolve("f/x") is None
    assert t.children(".") == ["abs", "f", "lib", "up", "usr"] and t.children("f") == [] and t.children("nope") == []
    assert t.paths()[0] == "." and len(t) == len(t.paths()) == 8 and t.file_count == 2 and "usr/lib" in t


def test_node_defaults():
    n = Node(FILE, data=b"abc")
    assert (n.size, n.nlink, n.layer, n.mtime, n.xattrs) == (3, 0, None, None, {})


def test_tar_entry_name_forms_agree():
    names = ["a/b", "./a/b", "/a/b", "a//b/", "a/./b", "x/../a/b"]
    trees = [build([F(n)]) for n in names]
    assert all(t.paths() == [".", "a", "a/b"] for t in trees)


# -- property: any layers give a tree inside the root, or an ImageError -----------------------

# Plain names dominate so that most layers apply; the rest are the attack material.
COMPONENTS = ["a"] * 6 + ["b"] * 6 + ["c"] * 4 + ["tmp", "..", ".", "", ".wh.a", ".wh.b", ".wh..wh..opq", ".wh.",
                                                  ".wh..", ".wh..."]
names = st.lists(st.sampled_from(COMPONENTS), min_size=1, max_size=4).map("/".join) | st.sampled_from(
    ["/", "/tmp/kbook-escape-sentinel/x", "../../../../x", "a/../../b", "/a/b/", "a/.wh.b"])
targets = names | st.sampled_from(["/", "..", "../../..", "/tmp/kbook-escape-sentinel", ""])


@st.composite
def entries(draw):
    kind = draw(st.sampled_from([FILE, FILE, DIR, DIR, SYMLINK, HARDLINK, CHAR, FIFO]))
    xattrs = draw(st.sampled_from([{}, {"user.k": b"v"}, {"trusted.overlay.opaque": b"y"}]))
    return Entry(draw(names), kind, draw(st.sampled_from([0o644, 0o755, 0o4755, 0])),
                 uid=draw(st.sampled_from([0, 1000])), mtime=draw(st.integers(0, 3)),
                 data=draw(st.sampled_from([b"", b"1", b"22"])) if kind == FILE else b"",
                 linkname=draw(targets) if kind in (SYMLINK, HARDLINK) else "",
                 devmajor=draw(st.sampled_from([0, 1])) if kind == CHAR else 0,
                 xattrs=xattrs if kind in (FILE, DIR) else {})


random_layers = st.lists(st.lists(entries(), max_size=8).map(lambda es: Layer(tuple(es), b"")), min_size=1, max_size=4)


@settings(max_examples=300)
@given(random_layers)
def test_random_layers_stay_inside_the_root_or_fail_cleanly(layers):
    t = Tree()
    for i, lay in enumerate(layers):
        before = t.records()
        try:
            t.apply(lay, i)
        except ImageError:
            assert t.records() == before
        assert_contained(t)
        counts: dict[int, int] = {}
        for p in t.paths():
            counts[id(t.get(p))] = counts.get(id(t.get(p)), 0) + 1
        assert all(t.get(p).nlink == counts[id(t.get(p))] for p in t.paths())
        assert t.file_count == sum(t.get(p).type == FILE for p in t.paths())
        assert not any(k.startswith("trusted.overlay.") for p in t.paths() for k in t.get(p).xattrs)
