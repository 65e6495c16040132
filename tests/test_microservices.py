"""kbook.microservices: constraints, one-host resolution against per-container resolution,
and the resources a monolith and its microservices need as load rises in one service."""

from itertools import product
from math import comb

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kbook.errors import DependencyError, KbookError
from kbook.microservices import (
    Application,
    Component,
    Index,
    Service,
    compatibility,
    cpu_demand,
    environment_drift,
    microservices,
    monolith,
    pair_matrix,
    parse_constraint,
    parse_version,
    resolve,
    resolve_per_container,
    scaling_curve,
)

# --- versions and constraints ------------------------------------------------------------


@pytest.mark.parametrize(
    "constraint, version, expected",
    [
        (">=1.2,<2", "1.2", True),
        (">=1.2,<2", "1.9.9", True),
        (">=1.2,<2", "2.0", False),
        (">=1.2,<2", "1.1.9", False),
        ("==1.2", "1.2.0", True),  # PEP 440: missing release parts are zeros
        ("==1.2", "1.2.1", False),
        ("!=1.5", "1.5.0", False),
        (">1.2", "1.2.0", False),
        (">1.2", "1.2.1", True),
        ("<=1.2", "1.2.0", True),
        (">1.9", "1.10", True),  # numeric, not lexicographic
        ("~=1.4.5", "1.4.5", True),
        ("~=1.4.5", "1.4.9", True),
        ("~=1.4.5", "1.5.0", False),
        ("~=1.4.5", "1.4.4", False),
        ("~=2.2", "2.9", True),
        ("~=2.2", "3.0", False),
        ("^1.2.3", "1.2.3", True),
        ("^1.2.3", "1.9", True),
        ("^1.2.3", "2.0.0", False),
        ("^1.2.3", "1.2.2", False),
        ("^0.2.3", "0.2.9", True),
        ("^0.2.3", "0.3.0", False),
        ("^0.0.3", "0.0.3", True),
        ("^0.0.3", "0.0.4", False),
        ("^0.0", "0.0.9", True),
        ("^0.0", "0.1", False),
        ("^0", "0.9", True),
        ("^0", "1", False),
        ("==1.2.*", "1.2", True),
        ("==1.2.*", "1.2.9", True),
        ("==1.2.*", "1.20", False),
        ("==1.2.*", "1.3", False),
        ("==1.0.*", "1", True),
        ("!=1.2.*", "1.2.5", False),
        ("!=1.2.*", "1.3", True),
    ],
)
def test_constraint_matches(constraint, version, expected):
    assert parse_constraint(constraint).matches(version) is expected


def test_constraint_text_is_normalized():
    assert str(parse_constraint(" >= 1.2 , < 2 ")) == ">=1.2,<2"
    assert str(parse_constraint("^0.2")) == "^0.2"


def test_versions_compare_numerically_with_zero_padding():
    assert parse_version("1.10") > parse_version("1.9")
    assert parse_version("1.2") == parse_version("1.2.0")
    assert hash(parse_version("1.2")) == hash(parse_version("1.2.0.0"))
    assert str(parse_version("1.2.0")) == "1.2.0"


@pytest.mark.parametrize(
    "text, detail",
    [
        ("", "clause 1 is empty"),
        (">=1,", "clause 2 is empty"),
        ("1.2", 'clause 1 ("1.2") is not an operator and a version'),
        ("=>1", 'clause 1 ("=>1") is not an operator and a version'),
        (">=1.2a", "is not an operator and a version"),
        ("~=1", "~= needs at least two release numbers"),
        (">=1.*", "a .* prefix match only follows == or !="),
        ("^1.*", "a .* prefix match only follows == or !="),
        (3, "expected a string"),
    ],
)
def test_bad_constraints_raise_a_typed_error_naming_the_input(text, detail):
    with pytest.raises(DependencyError) as e:
        parse_constraint(text)
    assert isinstance(e.value, KbookError) and isinstance(e.value, ValueError)
    assert str(e.value).startswith(f'invalid version constraint "{text}": ')
    assert detail in str(e.value)


@pytest.mark.parametrize("text", ["", "v1", "1..2", "1.2a", "1.", None])
def test_bad_versions(text):
    with pytest.raises(DependencyError, match="expected release numbers such as 1.2.3"):
        parse_version(text)


def test_errors_name_the_service_and_the_library():
    expected = r'^service "search": requires\["openssl"\]: invalid version constraint ">=3,"'
    with pytest.raises(DependencyError, match=expected):
        Service("search", {"openssl": ">=3,"})
    with pytest.raises(DependencyError, match=r'^library "openssl": invalid version "3.x"'):
        Index({"openssl": ["3.x"]})
    with pytest.raises(DependencyError, match='^library "libcurl": invalid version constraint "=<3"'):
        Index({"libcurl": {"8.5.0": {"openssl": "=<3"}}})


versions = st.lists(st.integers(0, 3), min_size=1, max_size=4).map(lambda p: ".".join(map(str, p)))
clauses = st.tuples(st.sampled_from(["==", "!=", ">=", "<=", ">", "<", "^"]), versions).map("".join)


@given(st.lists(clauses, min_size=1, max_size=3), versions)
def test_clauses_are_anded_and_trailing_zeros_never_matter(parts, v):
    joined = parse_constraint(",".join(parts))
    assert joined.matches(v) == all(parse_constraint(p).matches(v) for p in parts)
    assert joined.matches(v) == joined.matches(v + ".0")


# --- one host versus one container per service -------------------------------------------

INDEX = Index(
    {
        "openssl": ["1.1.1", "3.0.2", "3.2.0"],
        "libcurl": {"7.88.1": {"openssl": ">=1.1,<3"}, "8.5.0": {"openssl": ">=3.0", "zlib": ">=1.2"}},
        "zlib": ["1.2.13", "1.3"],
    }
)
SEARCH = Service("search", {"openssl": ">=3.0"})
CHECKOUT = Service("checkout", {"openssl": "<3"})
CRAWLER = Service("crawler", {"libcurl": ">=8"})
FETCHER = Service("fetcher", {"libcurl": ">=7"})
LEGACY = Service("legacy", {"openssl": "~=1.1.0"})
BROKEN = Service("broken", {"libxml2": "^2.9"})


def test_two_services_that_disagree_on_a_library_cannot_share_a_host():
    r = resolve([SEARCH, CHECKOUT], INDEX)
    assert not r.ok and r.versions == {}
    assert str(r.conflict) == (
        "Cannot install search and checkout on one host because these package versions have conflicting dependencies.\n"
        "The conflict is caused by:\n"
        "    search depends on openssl>=3.0\n"
        "    checkout depends on openssl<3\n"
        "Available versions: openssl 1.1.1, 3.0.2, 3.2.0"
    )
    assert r.conflict.summary() == "search: openssl>=3.0; checkout: openssl<3"


def test_a_conflict_through_a_library_names_the_release_that_causes_it():
    r = resolve([CRAWLER, CHECKOUT], INDEX)
    assert str(r.conflict).splitlines()[1:] == [
        "The conflict is caused by:",
        "    crawler depends on libcurl>=8",
        "    checkout depends on openssl<3",
        "    libcurl 8.5.0 depends on openssl>=3.0",  # zlib>=1.2 is met, so it is not named
        "Available versions: libcurl 7.88.1, 8.5.0; openssl 1.1.1, 3.0.2, 3.2.0",
    ]


def test_the_search_backtracks_to_an_older_release():
    r = resolve([FETCHER, CHECKOUT], INDEX)
    assert r.ok
    assert {lib: str(v) for lib, v in r.versions.items()} == {"libcurl": "7.88.1", "openssl": "1.1.1"}


def test_unconstrained_choices_take_the_newest_release():
    r = resolve([CRAWLER], INDEX)
    assert {lib: str(v) for lib, v in r.versions.items()} == {"libcurl": "8.5.0", "openssl": "3.2.0", "zlib": "1.3"}


def test_the_conflict_names_only_the_services_that_collide():
    r = resolve([SEARCH, FETCHER, LEGACY], INDEX)
    assert r.conflict.services == ("search", "legacy")
    assert r.conflict.summary() == "search: openssl>=3.0; legacy: openssl~=1.1.0"


def test_a_library_the_index_does_not_have():
    r = resolve([BROKEN], INDEX)
    assert str(r.conflict).startswith("Cannot install broken on one host")
    assert str(r.conflict).endswith("Available versions: libxml2 (none)")


def test_duplicate_service_names_are_refused():
    with pytest.raises(DependencyError, match="duplicate names"):
        resolve([SEARCH, Service("search")], INDEX)


def test_compatibility_table_one_host_versus_containers():
    services = [SEARCH, CHECKOUT, CRAWLER, FETCHER, BROKEN]
    rows = compatibility(services, INDEX)
    assert len(rows) == sum(comb(5, k) for k in range(2, 6))
    by_name = {row["services"]: row for row in rows}
    assert by_name["search + checkout"] == {
        "services": "search + checkout",
        "size": 2,
        "one_host": False,
        "containers": True,
        "versions": "",
        "conflict": "search: openssl>=3.0; checkout: openssl<3",
    }
    assert by_name["search + crawler"]["versions"] == "libcurl 8.5.0, openssl 3.2.0, zlib 1.3"
    assert by_name["checkout + fetcher"]["one_host"] is True
    # A service that cannot be installed anywhere fails in containers too.
    assert by_name["search + broken"]["containers"] is False
    assert [row["size"] for row in compatibility(services, INDEX, sizes=[3])] == [3] * comb(5, 3)


def test_pair_matrix_is_symmetric_with_each_service_alone_on_the_diagonal():
    m = pair_matrix([SEARCH, CHECKOUT, CRAWLER, BROKEN], INDEX)
    assert m["search"] == {"search": True, "checkout": False, "crawler": True, "broken": False}
    assert all(m[a][b] == m[b][a] for a in m for b in m)
    assert m["broken"]["broken"] is False


def test_environment_drift():
    rows = environment_drift(SEARCH, "openssl", "3.0.2", ["3.0.2", "3.0.13", "3.2.0", "1.1.1"])
    assert [(r["change"], r["constraint_holds"], r["same_as_tested"]) for r in rows] == [
        ("none", True, True),
        ("patch upgrade", True, False),
        ("minor upgrade", True, False),
        ("major downgrade", False, False),
    ]
    assert rows[0] == {
        "service": "search",
        "library": "openssl",
        "constraint": ">=3.0",
        "tested": "3.0.2",
        "deployed": "3.0.2",
        "change": "none",
        "constraint_holds": True,
        "same_as_tested": True,
    }
    with pytest.raises(DependencyError, match='no constraint on "zlib"'):
        environment_drift(SEARCH, "zlib", "1.3", ["1.2.13"])


# Random small worlds: libraries a, b, c with versions 1..3, releases that may depend on the
# other libraries, services that constrain them. A brute force over every assignment
# (including "not installed") is the oracle for the backtracking search.
LIBS = ("a", "b", "c")
VERSIONS = ("1", "2", "3")
small_constraint = st.sampled_from([">=2", "<2", "==2", "!=3", "^1", ">=1,<3", "==3", "~=2.0"])
release_deps = st.dictionaries(st.sampled_from(LIBS), small_constraint, max_size=2)
worlds = st.tuples(
    st.fixed_dictionaries(
        {lib: st.dictionaries(st.sampled_from(VERSIONS), release_deps, min_size=1) for lib in LIBS}
    ),
    st.lists(st.dictionaries(st.sampled_from(LIBS), small_constraint, min_size=1, max_size=2), min_size=1, max_size=4),
)


def _brute_force(libraries, services):
    index = Index(libraries)
    choices = [[None, *index.versions(lib)] for lib in LIBS]
    for pick in product(*choices):
        chosen = dict(zip(LIBS, pick))
        reqs = [r for s in services for r in s.requirements]
        reqs += [d for lib, v in chosen.items() if v is not None for d in index.dependencies(lib, v)]
        if all(chosen[r.library] is not None and r.constraint.matches(chosen[r.library]) for r in reqs):
            return True
    return False


@settings(max_examples=60)
@given(worlds)
def test_resolution_is_exact_and_containers_only_need_each_service_alone(world):
    libraries, requires = world
    index = Index(libraries)
    services = [Service(f"s{i}", r) for i, r in enumerate(requires)]
    shared = resolve(services, index)
    assert shared.ok == _brute_force(libraries, services)
    alone = resolve_per_container(services, index)
    if shared.ok:
        assert all(alone[s.name].ok for s in services)
        for s in services:
            for lib, c in s.requires.items():
                assert c.matches(shared.versions[lib])
        for lib, v in shared.versions.items():
            assert all(d.constraint.matches(shared.versions[d.library]) for d in index.dependencies(lib, v))
    else:
        # The causes are a minimal conflict: they fail together, and without any one of them
        # the rest can be installed.
        causes = shared.conflict.causes

        def install(reqs):
            by_origin = {}
            for r in reqs:
                by_origin.setdefault(r.origin, {})[r.library] = r.constraint
            return resolve([Service(name, req) for name, req in by_origin.items()], index).ok

        assert not install(causes)
        assert all(install(causes[:i] + causes[i + 1 :]) for i in range(len(causes)))


# --- scaling the monolith versus one microservice ----------------------------------------

SHOP = Application(
    [
        Component("search", share=0.5, cpu_seconds=0.02, memory_mib=256),
        Component("checkout", share=0.1, cpu_seconds=0.05, memory_mib=512),
        Component("catalog", share=0.4, cpu_seconds=0.01, memory_mib=1024),
    ],
    pod_cores=1,
)


def test_cpu_demand_and_hpa_replicas():
    assert cpu_demand(SHOP, 200) == {"search": 2.0, "checkout": 1.0, "catalog": 0.8}
    assert cpu_demand(SHOP, 200, {"search": 10}) == {"search": 20.0, "checkout": 1.0, "catalog": 0.8}
    # 3.8 cores at 80 % of 1-core pods: ceil(4.75) = 5 pods, each holding every component.
    mono = monolith(SHOP, 200)
    assert (mono.replicas, mono.cpu_cores, mono.memory_mib) == ({"monolith": 5}, 5.0, 5 * 1792.0)
    micro = microservices(SHOP, 200)
    assert micro.replicas == {"search": 3, "checkout": 2, "catalog": 1}
    assert (micro.cpu_cores, micro.memory_mib) == (6.0, 3 * 256 + 2 * 512 + 1024.0)


def test_replicas_never_go_below_min_replicas():
    assert microservices(SHOP, 0).replicas == {"search": 1, "checkout": 1, "catalog": 1}
    assert monolith(SHOP, 0).total_replicas == 1


def test_replica_counts_do_not_flip_on_float_rounding():
    # 11 x 0.1 = 1.1000000000000001 in floats; 1.1 cores at 10 % of a core is exactly 11 pods.
    app = Application([Component("x", 1, 0.1, 1)], pod_cores=1, target_utilization=0.1)
    assert microservices(app, 11).replicas == {"x": 11}


def test_only_the_hot_service_scales():
    base, hot = microservices(SHOP, 200), microservices(SHOP, 200, {"search": 10})
    assert hot.replicas["search"] > base.replicas["search"]
    assert {k: v for k, v in hot.replicas.items() if k != "search"} == {"checkout": 2, "catalog": 1}


def test_scaling_curve_rows():
    rows = scaling_curve(SHOP, 200, "search", [1, 10, 20])
    assert rows[1] == {
        "multiplier": 10,
        "monolith_replicas": 28,  # ceil((20 + 1 + 0.8) / 0.8)
        "monolith_cpu_cores": 28.0,
        "monolith_memory_mib": 28 * 1792.0,
        "microservices_replicas": 28,  # 25 search + 2 checkout + 1 catalog
        "hot_replicas": 25,
        "microservices_cpu_cores": 28.0,
        "microservices_memory_mib": 25 * 256 + 2 * 512 + 1024.0,
    }
    for a, b in zip(rows, rows[1:]):
        assert b["monolith_memory_mib"] >= a["monolith_memory_mib"]
        assert b["microservices_memory_mib"] >= a["microservices_memory_mib"]


components = st.lists(
    st.builds(
        lambda share, cpu, mem: (share, cpu, mem),
        st.integers(0, 10).map(lambda x: x / 10),
        st.integers(1, 100).map(lambda x: x / 1000),
        st.integers(1, 4096),
    ),
    min_size=1,
    max_size=5,
)


def _app(specs, **kw):
    return Application([Component(f"c{i}", *spec) for i, spec in enumerate(specs)], **kw)


@given(components, st.integers(0, 2000), st.integers(1, 50), st.data())
def test_monolith_never_needs_less_memory_with_the_same_pod_shape(specs, rps, k, data):
    app = _app(specs, pod_cores=data.draw(st.sampled_from([0.5, 1, 2])))
    hot = data.draw(st.sampled_from([c.name for c in app.components]))
    mono, micro = monolith(app, rps, {hot: k}), microservices(app, rps, {hot: k})
    assert mono.memory_mib >= micro.memory_mib
    # The price of splitting: every service rounds its pods up on its own.
    assert micro.cpu_cores >= mono.cpu_cores


@given(st.integers(1, 5), st.lists(st.integers(1, 4096), min_size=1, max_size=5), st.integers(1, 40))
def test_uniform_load_on_a_balanced_app_costs_the_same_either_way(rps, memories, k):
    # Balanced: every component burns the same CPU; a monolith pod is one pod of each service.
    app = Application(
        [Component(f"c{i}", 1, 0.1, m) for i, m in enumerate(memories)],
        pod_cores=0.5,
        monolith_pod_cores=0.5 * len(memories),
    )
    load = {c.name: k for c in app.components}
    mono, micro = monolith(app, rps, load), microservices(app, rps, load)
    assert (mono.memory_mib, mono.cpu_cores) == (micro.memory_mib, micro.cpu_cores)


def test_a_runtime_in_every_process_makes_small_microservices_cost_more():
    app = Application(SHOP.components, pod_cores=1, runtime_mib=300)
    assert microservices(app, 10).memory_mib > monolith(app, 10).memory_mib
    curve = scaling_curve(app, 10, "search", [1, 400])
    assert curve[0]["microservices_memory_mib"] > curve[0]["monolith_memory_mib"]
    assert curve[1]["microservices_memory_mib"] < curve[1]["monolith_memory_mib"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"components": [], "pod_cores": 1}, "components: Required value"),
        ({"components": [Component("a", 1, 1, 1)] * 2, "pod_cores": 1}, "components: Duplicate value"),
        ({"components": [Component("a", 1, 1, 1)], "pod_cores": 0}, "pod_cores: Invalid value: 0: must be greater"),
        ({"components": [Component("a", 1, 1, 1)], "pod_cores": 1, "target_utilization": 0}, "target_utilization"),
        ({"components": [Component("a", -1, 1, 1)], "pod_cores": 1}, r"components\[0\].share: Invalid value: -1"),
        ({"components": [Component("a", 1, 1, 1)], "pod_cores": 1, "monolith_pod_cores": 0}, "monolith_pod_cores"),
    ],
)
def test_bad_applications(kwargs, message):
    with pytest.raises(KbookError, match=message):
        Application(**kwargs)


def test_unknown_components_are_named():
    with pytest.raises(KbookError, match='component "cart" not found'):
        scaling_curve(SHOP, 100, "cart", [1])
    with pytest.raises(KbookError, match='component "cart" not found'):
        monolith(SHOP, 100, {"cart": 2})
