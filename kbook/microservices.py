"""From a monolith to microservices: library conflicts on a shared host, and scaling one
service instead of the whole application.

Services deployed side by side on one host share its libraries: one installed version each,
as in ``/usr/lib`` or a system site-packages. Their constraints may have no common solution,
which :func:`resolve` finds or proves by exact backtracking and explains the way pip reports
``ResolutionImpossible``. A container image brings its own libraries, so a service there only
has to agree with itself (:func:`resolve_per_container`).

A monolith scales as a whole: every replica carries every component. Microservices scale one
at a time. :func:`monolith` and :func:`microservices` size both as a Horizontal Pod Autoscaler
settles: ``ceil(CPU demand / (pod CPU request x target utilization))`` replicas, at least one.

Constraints are comma-joined clauses (all must hold) with the operators of PEP 440 (``==``,
``!=``, ``>=``, ``<=``, ``>``, ``<``, ``~=``, and ``==X.Y.*`` prefixes) and the caret of npm
and Cargo semver (``^X.Y.Z``). Versions are release numbers (``1``, ``1.2``, ``1.2.3``) and,
as in PEP 440, missing parts are zeros: ``1.2 == 1.2.0``.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import combinations

from kbook.api.defaults import DEFAULT_CPU_UTILIZATION
from kbook.errors import DependencyError, KbookError

__all__ = [
    "Version",
    "Clause",
    "Constraint",
    "parse_version",
    "parse_constraint",
    "Requirement",
    "Service",
    "Index",
    "Conflict",
    "Resolution",
    "resolve",
    "resolve_per_container",
    "compatibility",
    "pair_matrix",
    "environment_drift",
    "Component",
    "Application",
    "Footprint",
    "cpu_demand",
    "monolith",
    "microservices",
    "scaling_curve",
]

# ---------------------------------------------------------------------------------------
# Versions and constraints
# ---------------------------------------------------------------------------------------

_VERSION = re.compile(r"\d+(?:\.\d+)*")
_CLAUSE = re.compile(r"(==|!=|>=|<=|~=|>|<|\^)\s*(\d+(?:\.\d+)*)(\.\*)?")
_OPERATORS = "==, !=, >=, <=, >, <, ~=, ^"
_COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


def _padded(key: tuple[int, ...], n: int) -> tuple[int, ...]:
    return key + (0,) * (n - len(key))


@dataclass(frozen=True, order=True)
class Version:
    """A release number. ``key`` drops trailing zeros, so versions compare as PEP 440
    release segments do; ``text`` is how it was written."""

    key: tuple[int, ...]
    text: str = field(compare=False)

    @classmethod
    def of(cls, parts: Sequence[int]) -> Version:
        parts = tuple(parts)
        key = parts
        while key and key[-1] == 0:
            key = key[:-1]
        return cls(key, ".".join(map(str, parts)))

    @property
    def parts(self) -> tuple[int, ...]:
        """The release numbers as written (``1.2.0`` has three)."""
        return tuple(int(p) for p in self.text.split("."))

    def __str__(self) -> str:
        return self.text


def parse_version(text: str | Version) -> Version:
    """``"1.2.3"`` -> :class:`Version`; anything but dot-separated numbers is refused."""
    if isinstance(text, Version):
        return text
    if not isinstance(text, str) or not _VERSION.fullmatch(text.strip()):
        raise DependencyError(
            f"invalid version {json.dumps(str(text))}: expected release numbers such as 1.2.3"
        )
    return Version.of(int(p) for p in text.strip().split("."))


@dataclass(frozen=True)
class Clause:
    """One comparison: ``op version``, or with ``prefix`` the PEP 440 ``==X.Y.*`` match."""

    op: str
    version: Version
    prefix: bool = False

    def matches(self, v: Version) -> bool:
        if self.prefix:
            n = len(self.version.parts)
            inside = _padded(v.key, n)[:n] == self.version.parts
            return inside if self.op == "==" else not inside
        return _COMPARE[self.op](v, self.version)


def _caret_upper(parts: tuple[int, ...]) -> Version:
    """Cargo's caret bound: bump the leftmost non-zero part, or the last one written when all
    are zero (``^1.2.3 -> <2``, ``^0.2.3 -> <0.3``, ``^0.0.3 -> <0.0.4``, ``^0.0 -> <0.1``)."""
    i = next((i for i, p in enumerate(parts) if p), len(parts) - 1)
    return Version.of(parts[:i] + (parts[i] + 1,))


@dataclass(frozen=True)
class Constraint:
    """A version constraint: ``text`` as normalized, ``clauses`` that must all hold
    (``~=`` and ``^`` are expanded into a lower and an upper clause)."""

    text: str
    clauses: tuple[Clause, ...]

    def matches(self, version: str | Version) -> bool:
        v = parse_version(version)
        return all(c.matches(v) for c in self.clauses)

    def __str__(self) -> str:
        return self.text


def parse_constraint(text: str | Constraint) -> Constraint:
    """``">=3.0,<3.2"``, ``"~=1.4.5"``, ``"^0.2"``, ``"==2.*"`` -> :class:`Constraint`;
    a malformed clause raises :class:`~kbook.errors.DependencyError` naming it."""
    if isinstance(text, Constraint):
        return text

    def bad(detail: str) -> DependencyError:
        return DependencyError(f"invalid version constraint {json.dumps(str(text))}: {detail}")

    if not isinstance(text, str):
        raise bad(f"expected a string with an operator ({_OPERATORS}) and a version")
    clauses: list[Clause] = []
    written: list[str] = []
    for i, part in enumerate((p.strip() for p in text.split(",")), 1):
        m = _CLAUSE.fullmatch(part)
        if m is None:
            what = "is empty" if not part else f"({json.dumps(part)}) is not an operator and a version"
            raise bad(f"clause {i} {what}: expected one of {_OPERATORS} followed by a version such as 1.2.3")
        op, number, star = m.groups()
        parts = tuple(int(p) for p in number.split("."))
        v = Version.of(parts)
        if star and op not in ("==", "!="):
            raise bad(f"clause {i}: a .* prefix match only follows == or !=")
        if op == "~=":
            if len(parts) < 2:
                raise bad(f"clause {i}: ~= needs at least two release numbers (PEP 440)")
            clauses += [Clause(">=", v), Clause("==", Version.of(parts[:-1]), prefix=True)]
        elif op == "^":
            clauses += [Clause(">=", v), Clause("<", _caret_upper(parts))]
        else:
            clauses.append(Clause(op, v, prefix=bool(star)))
        written.append(op + number + (star or ""))
    return Constraint(",".join(written), tuple(clauses))


# ---------------------------------------------------------------------------------------
# Services, the library index, resolution
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    """``origin`` needs ``library`` within ``constraint``; the origin is a service or a
    library release (``"libcurl 8.5.0"``)."""

    origin: str
    library: str
    constraint: Constraint

    def __str__(self) -> str:
        return f"{self.origin} depends on {self.library}{self.constraint}"


@dataclass(frozen=True)
class Service:
    """A deployable service and the shared libraries it needs, e.g.
    ``Service("search", {"openssl": ">=3.0", "libxml2": "^2.9"})``."""

    name: str
    requires: Mapping[str, Constraint] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        parsed = {}
        for library, constraint in self.requires.items():
            try:
                parsed[library] = parse_constraint(constraint)
            except DependencyError as e:
                raise DependencyError(f'service "{self.name}": requires[{json.dumps(library)}]: {e}') from None
        object.__setattr__(self, "requires", parsed)

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        return tuple(Requirement(self.name, lib, c) for lib, c in self.requires.items())


class Index:
    """The library versions a host can install (a distribution's repository, a package
    index), with what each release needs of other libraries::

        Index({"openssl": ["1.1.1", "3.0.2"], "libcurl": {"7.88.1": {"openssl": "<3"}}})
    """

    def __init__(self, libraries: Mapping[str, Iterable[str] | Mapping[str, Mapping[str, str]]]):
        self._releases: dict[str, dict[Version, tuple[Requirement, ...]]] = {}
        for library, releases in libraries.items():
            needs = releases if isinstance(releases, Mapping) else {r: {} for r in releases}
            table: dict[Version, tuple[Requirement, ...]] = {}
            for text, deps in needs.items():
                try:
                    v = parse_version(text)
                    origin = f"{library} {v}"
                    table[v] = tuple(Requirement(origin, d, parse_constraint(c)) for d, c in deps.items())
                except DependencyError as e:
                    raise DependencyError(f'library "{library}": {e}') from None
            self._releases[library] = dict(sorted(table.items(), reverse=True))

    def versions(self, library: str) -> tuple[Version, ...]:
        """Every release of ``library``, newest first; none if the index does not have it."""
        return tuple(self._releases.get(library, ()))

    def dependencies(self, library: str, version: Version) -> tuple[Requirement, ...]:
        return self._releases[library][version]


def _search(
    chosen: dict[str, Version], reqs: tuple[Requirement, ...], index: Index
) -> dict[str, Version] | None:
    """Backtracking over libraries, fewest candidates first, newest candidate first: one
    version per library satisfying every requirement, or None when there is none."""
    open_libs = sorted({r.library for r in reqs} - chosen.keys())
    if not open_libs:
        return chosen
    candidates = {
        lib: [v for v in index.versions(lib) if all(r.constraint.matches(v) for r in reqs if r.library == lib)]
        for lib in open_libs
    }
    lib = min(open_libs, key=lambda name: (len(candidates[name]), name))
    for v in candidates[lib]:
        now, deps = {**chosen, lib: v}, index.dependencies(lib, v)
        if any(d.library in now and not d.constraint.matches(now[d.library]) for d in deps):
            continue
        found = _search(now, reqs + deps, index)
        if found is not None:
            return found
    return None


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class Conflict:
    """Why services cannot share one host: ``causes``, an irreducible set of their requirements
    with no solution (drop any one and there is one), the requirements of the library
    releases in play, and the versions available of every library named."""

    causes: tuple[Requirement, ...]
    dependencies: tuple[Requirement, ...]
    available: Mapping[str, tuple[Version, ...]] = field(hash=False)

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.origin for r in self.causes))

    def summary(self) -> str:
        """One line for a table cell: ``search: openssl>=3.0; checkout: openssl<3``."""
        return "; ".join(f"{r.origin}: {r.library}{r.constraint}" for r in self.causes + self.dependencies)

    def __str__(self) -> str:
        lines = [
            f"Cannot install {_and(self.services)} on one host because these package versions "
            "have conflicting dependencies.",
            "The conflict is caused by:",
            *(f"    {r}" for r in self.causes + self.dependencies),
            "Available versions: "
            + "; ".join(f"{lib} {', '.join(map(str, sorted(vs))) or '(none)'}" for lib, vs in self.available.items()),
        ]
        return "\n".join(lines)


def _explain(reqs: tuple[Requirement, ...], index: Index) -> Conflict:
    """Shrink the requirements to a minimal unsatisfiable set (a deletion filter), then keep the
    requirements of candidate releases that bear on it: those on a library that something else
    also constrains, or that no available version meets."""
    core = list(reqs)
    for r in reqs:
        rest = [q for q in core if q is not r]
        if _search({}, tuple(rest), index) is None:
            core = rest
    in_play: list[tuple[str, Requirement]] = []  # (the library whose release asks, what it asks)
    seen: list[str] = []
    queue = [r.library for r in core]
    while queue:
        lib = queue.pop(0)
        if lib in seen:
            continue
        seen.append(lib)
        for v in index.versions(lib):
            if all(r.constraint.matches(v) for r in core if r.library == lib):
                for d in index.dependencies(lib, v):
                    in_play.append((lib, d))
                    queue.append(d.library)

    def bears(lib: str, d: Requirement) -> bool:
        constrained_elsewhere = any(r.library == d.library for r in core) or any(
            other != lib and q.library == d.library for other, q in in_play
        )
        return constrained_elsewhere or not any(d.constraint.matches(v) for v in index.versions(d.library))

    deps = tuple(d for lib, d in in_play if bears(lib, d))
    named = dict.fromkeys([r.library for r in core] + [d.library for d in deps])
    return Conflict(tuple(core), deps, {lib: index.versions(lib) for lib in named})


@dataclass(frozen=True)
class Resolution:
    """The result of installing ``services`` together: one version per library, or the
    conflict that makes it impossible."""

    services: tuple[str, ...]
    versions: Mapping[str, Version] = field(hash=False)
    conflict: Conflict | None = field(default=None, hash=False)

    @property
    def ok(self) -> bool:
        return self.conflict is None


def resolve(services: Iterable[Service], index: Index) -> Resolution:
    """Install ``services`` on one host: every library at one version that satisfies all of
    them (and the releases' own requirements), found by exhaustive search."""
    services = tuple(services)
    names = tuple(s.name for s in services)
    if len(set(names)) != len(names):
        raise DependencyError(f"services: duplicate names in {list(names)}")
    reqs = tuple(r for s in services for r in s.requirements)
    found = _search({}, reqs, index)
    if found is None:
        return Resolution(names, {}, _explain(reqs, index))
    return Resolution(names, dict(sorted(found.items())))


def resolve_per_container(services: Iterable[Service], index: Index) -> dict[str, Resolution]:
    """Each service in its own image with its own libraries: each resolves alone."""
    return {s.name: resolve([s], index) for s in services}


def compatibility(services: Iterable[Service], index: Index, sizes: Iterable[int] | None = None) -> list[dict]:
    """One row per group of services (every group of two or more, or of the given sizes):
    can they share one host, and can they run side by side in containers."""
    services = tuple(services)
    alone = resolve_per_container(services, index)
    rows = []
    for k in range(2, len(services) + 1) if sizes is None else sizes:
        for group in combinations(services, k):
            shared = resolve(group, index)
            rows.append(
                {
                    "services": " + ".join(s.name for s in group),
                    "size": k,
                    "one_host": shared.ok,
                    "containers": all(alone[s.name].ok for s in group),
                    "versions": ", ".join(f"{lib} {v}" for lib, v in shared.versions.items()),
                    "conflict": shared.conflict.summary() if shared.conflict else "",
                }
            )
    return rows


def pair_matrix(services: Iterable[Service], index: Index) -> dict[str, dict[str, bool]]:
    """``m[a][b]``: can services a and b share one host (the diagonal: can a be installed)."""
    services = tuple(services)
    return {a.name: {b.name: resolve((a,) if a is b else (a, b), index).ok for b in services} for a in services}


def _change(old: Version, new: Version) -> str:
    """``"none"``, or ``"major|minor|patch upgrade|downgrade"`` by the first part that differs."""
    if old == new:
        return "none"
    n = max(len(old.key), len(new.key))
    a, b = _padded(old.key, n), _padded(new.key, n)
    i = next(i for i in range(n) if a[i] != b[i])
    level = ("major", "minor")[i] if i < 2 else "patch"
    return f"{level} {'upgrade' if new > old else 'downgrade'}"


def environment_drift(
    service: Service, library: str, tested: str | Version, deployed: Iterable[str | Version]
) -> list[dict]:
    """A service tested against ``library`` at ``tested`` in development, deployed to hosts
    that have other versions: does its declared constraint still hold, and is it the version
    it was tested with? (In a container image it always is.)"""
    if library not in service.requires:
        raise DependencyError(f'service "{service.name}": requires: no constraint on {json.dumps(library)}')
    constraint = service.requires[library]
    t = parse_version(tested)
    rows = []
    for w in deployed:
        v = parse_version(w)
        rows.append(
            {
                "service": service.name,
                "library": library,
                "constraint": str(constraint),
                "tested": str(t),
                "deployed": str(v),
                "change": _change(t, v),
                "constraint_holds": constraint.matches(v),
                "same_as_tested": v == t,
            }
        )
    return rows


# ---------------------------------------------------------------------------------------
# Scaling a monolith versus scaling one microservice
# ---------------------------------------------------------------------------------------


MIN_REPLICAS = 1  # HorizontalPodAutoscaler minReplicas default (SetDefaults_HorizontalPodAutoscaler)


def _exact(x: float) -> Fraction:
    """The decimal a parameter was written as, exactly (0.1 is 1/10), so replica counts do not
    flip on float rounding at a boundary."""
    return Fraction(str(x))


@dataclass(frozen=True)
class Component:
    """One part of the application: ``share`` of the application's requests reach it, each
    costs it ``cpu_seconds`` of CPU, and one running copy holds ``memory_mib`` whatever the load."""

    name: str
    share: float
    cpu_seconds: float
    memory_mib: float


@dataclass(frozen=True)
class Application:
    """Components and how they are deployed. Every pod requests ``pod_cores`` of CPU (a
    monolith pod ``monolith_pod_cores``, by default the same); every process also carries
    ``runtime_mib`` (a language runtime, a framework) besides its components' memory. The
    HPA's target utilization defaults to Kubernetes' 80 % (``autoscaling.DefaultCPUUtilization``)."""

    components: tuple[Component, ...]
    pod_cores: float
    target_utilization: float = DEFAULT_CPU_UTILIZATION / 100
    runtime_mib: float = 0.0
    monolith_pod_cores: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "components", tuple(self.components))
        names = [c.name for c in self.components]
        if not names:
            raise KbookError("components: Required value: an application has at least one component")
        if len(set(names)) != len(names):
            raise KbookError(f"components: Duplicate value: names {names}")
        for what, value in [("pod_cores", self.pod_cores), ("target_utilization", self.target_utilization)]:
            if not value > 0:
                raise KbookError(f"{what}: Invalid value: {value}: must be greater than 0")
        if self.monolith_pod_cores is not None and not self.monolith_pod_cores > 0:
            raise KbookError(f"monolith_pod_cores: Invalid value: {self.monolith_pod_cores}: must be greater than 0")
        for i, c in enumerate(self.components):
            for what in ("share", "cpu_seconds", "memory_mib"):
                if getattr(c, what) < 0:
                    raise KbookError(f"components[{i}].{what}: Invalid value: {getattr(c, what)}: must be non-negative")
        if self.runtime_mib < 0:
            raise KbookError(f"runtime_mib: Invalid value: {self.runtime_mib}: must be non-negative")

    def component(self, name: str) -> Component:
        for c in self.components:
            if c.name == name:
                return c
        names = [c.name for c in self.components]
        raise KbookError(f"component {json.dumps(name)} not found: the application has {names}")


@dataclass(frozen=True)
class Footprint:
    """What a deployment needs: replicas per Deployment, the CPU all pods request, the memory they hold."""

    replicas: Mapping[str, int] = field(hash=False)
    cpu_cores: float
    memory_mib: float

    @property
    def total_replicas(self) -> int:
        return sum(self.replicas.values())


def _demand(app: Application, rps: float, load: Mapping[str, float] | None) -> dict[str, Fraction]:
    load = dict(load or {})
    for name in load:
        app.component(name)
    return {
        c.name: _exact(rps) * _exact(c.share) * _exact(load.get(c.name, 1)) * _exact(c.cpu_seconds)
        for c in app.components
    }


def cpu_demand(app: Application, rps: float, load: Mapping[str, float] | None = None) -> dict[str, float]:
    """CPU cores each component burns at ``rps`` application requests per second, each
    component's traffic multiplied by ``load`` (``{"search": 10}``: ten times the searches)."""
    return {name: float(d) for name, d in _demand(app, rps, load).items()}


def _replicas(demand: Fraction, pod_cores: Fraction, target: Fraction) -> int:
    """Where the HPA settles: the fewest pods whose average utilization is at most the target
    (``ceil(demand / (request x target))``), and never fewer than minReplicas."""
    return max(MIN_REPLICAS, math.ceil(demand / (pod_cores * target)))


def monolith(app: Application, rps: float, load: Mapping[str, float] | None = None) -> Footprint:
    """The application as one Deployment: its pods share their CPU among all components, and
    each one holds every component's memory."""
    cores = _exact(app.pod_cores if app.monolith_pod_cores is None else app.monolith_pod_cores)
    n = _replicas(sum(_demand(app, rps, load).values()), cores, _exact(app.target_utilization))
    memory = _exact(app.runtime_mib) + sum(_exact(c.memory_mib) for c in app.components)
    return Footprint({"monolith": n}, float(n * cores), float(n * memory))


def microservices(app: Application, rps: float, load: Mapping[str, float] | None = None) -> Footprint:
    """One Deployment per component, each scaled on its own demand."""
    cores, target = _exact(app.pod_cores), _exact(app.target_utilization)
    demand = _demand(app, rps, load)
    replicas = {c.name: _replicas(demand[c.name], cores, target) for c in app.components}
    memory = sum(replicas[c.name] * (_exact(app.runtime_mib) + _exact(c.memory_mib)) for c in app.components)
    return Footprint(replicas, float(sum(replicas.values()) * cores), float(memory))


def scaling_curve(app: Application, rps: float, hot: str, multipliers: Iterable[float]) -> list[dict]:
    """Load rising in one component only (``hot`` gets ``k`` times its traffic, the others stay
    flat): one row per ``k`` with what the monolith and the microservices need."""
    app.component(hot)
    rows = []
    for k in multipliers:
        mono, micro = monolith(app, rps, {hot: k}), microservices(app, rps, {hot: k})
        rows.append(
            {
                "multiplier": k,
                "monolith_replicas": mono.total_replicas,
                "monolith_cpu_cores": mono.cpu_cores,
                "monolith_memory_mib": mono.memory_mib,
                "microservices_replicas": micro.total_replicas,
                "hot_replicas": micro.replicas[hot],
                "microservices_cpu_cores": micro.cpu_cores,
                "microservices_memory_mib": micro.memory_mib,
            }
        )
    return rows
