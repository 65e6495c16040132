import numpy as np
import pytest
import simpy

from kbook.api import Container, ObjectMeta, Pod, PodSpec
from kbook.controlplane.apiserver import APIServer, NotFound
from kbook.controlplane.etcd import EmbeddedEtcd
from kbook.eventlog import EventLog
from kbook.image import FILE, Entry, Image, Layer, LayerStore
from kbook.node import Kubelet

MB = 1_000_000


def _layer(name: str, size: int, seed: int) -> Layer:
    data = np.random.default_rng(seed).bytes(size)  # incompressible: blob size ~ size
    return Layer.from_entries([Entry(name, FILE, 0o644, data=data)])


BASE, APP, OTHER = _layer("base", 3 * MB, 1), _layer("app", 1 * MB, 2), _layer("other", 2 * MB, 3)
IMAGES = {"app:1": Image(layers=(BASE, APP), config={"Cmd": ["/app"]}),
          "other:1": Image(layers=(BASE, OTHER), config={"Cmd": ["/other"]})}
BW = 1 * MB


def _pod(name: str, image: str = "app:1", node: str = "n1", annotations: dict | None = None,
         restart_policy: str = "Always") -> Pod:
    return Pod(metadata=ObjectMeta(name=name, namespace="default", annotations=annotations or {}),
               spec=PodSpec(node_name=node, restart_policy=restart_policy,
                            containers=[Container(name="main", image=image)]))


class Sim:
    def __init__(self, **kwargs):
        self.env = simpy.Environment()
        self.api = APIServer(EmbeddedEtcd(lambda: self.env.now), lambda: self.env.now, np.random.default_rng(0))
        self.log = EventLog()
        self.statuses: list[tuple[float, str, dict]] = []
        self.api.watch("Pod", self._seen)
        kwargs = {"images": IMAGES, "bandwidth_bytes_per_s": BW, "container_start_s": 1.0} | kwargs
        self.kubelet = Kubelet(self.env, self.api, "n1", log=self.log, rng=np.random.default_rng(0), **kwargs)
        self.kubelet.start()

    def _seen(self, event):
        pod = event.object
        statuses = pod.status.container_statuses
        state = statuses[0]["state"] if statuses else {}
        ready = next((c.status for c in pod.status.conditions if c.type == "Ready"), None)
        self.statuses.append((self.env.now, pod.metadata.name, {"phase": pod.status.phase, "ready": ready,
                                                                 "state": state}))

    def at(self, t: float, fn, *args):
        def proc():
            yield self.env.timeout(t - self.env.now)
            fn(*args)
        self.env.process(proc())

    def times(self, verb: str, obj: str | None = None) -> list[float]:
        return [r.time for r in self.log.records if r.verb == verb and (obj is None or r.object == obj)]


def _pull_seconds(image: str, store: LayerStore | None = None) -> float:
    return (store or LayerStore()).plan_pull(IMAGES[image]).download_bytes / BW


def test_one_pod_timeline():
    sim = Sim(readiness_delay_s=5.0)
    sim.api.create(_pod("web"))
    sim.env.run(until=60)
    pull = _pull_seconds("app:1")
    assert 4.0 < pull < 4.1  # 4 MB of gzip blobs at 1 MB/s
    states = [(t, s["phase"], s["ready"], next(iter(s["state"]), None),
               s["state"].get("waiting", {}).get("reason")) for t, _, s in sim.statuses]
    assert states == [
        (0.0, "Pending", None, None, None),  # created by the test (the server sets Pending)
        (0.0, "Pending", "False", "waiting", "ContainerCreating"),
        (pytest.approx(pull + 1.0), "Running", "False", "running", None),
        (pytest.approx(pull + 6.0), "Running", "True", "running", None),
    ]
    pod = sim.api.get("Pod", "web", "default")
    assert [c.type for c in pod.status.conditions] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    assert all(c.status == "True" for c in pod.status.conditions)
    assert pod.status.pod_ip == "10.244.0.2" and pod.status.host_ip == "10.0.0.2"
    assert sim.times("Pulling") == [0.0]
    assert sim.times("Pulled") == [pytest.approx(pull)]
    assert sim.times("Started") == [pytest.approx(pull + 1.0)]
    pulled = next(r.detail for r in sim.log.records if r.verb == "Pulled")
    assert pulled.startswith('Successfully pulled image "app:1" in 4.0') and "including waiting" in pulled


def test_warm_and_cold_pulls():
    sim = Sim()
    sim.api.create(_pod("a", "app:1"))
    sim.env.run(until=20)
    cold = _pull_seconds("app:1")
    # other:1 shares the base layer: only its own layer is downloaded
    warm = sim.kubelet.layer_store.plan_pull(IMAGES["other:1"]).download_bytes / BW
    assert 1.9 < warm < 2.1 and warm < cold
    sim.api.create(_pod("b", "other:1"))
    sim.api.create(_pod("c", "app:1"))  # present: no pull at all
    sim.env.run(until=40)
    assert sim.times("Pulled", "pod/default/b") == [pytest.approx(20 + warm)]
    assert sim.times("Started", "pod/default/c") == [pytest.approx(21.0)]
    present = [r.detail for r in sim.log.records if r.object == "pod/default/c" and r.verb == "Pulled"]
    assert present == ['Container image "app:1" already present on machine']
    images = sim.api.get("Node", "n1").status.images
    assert sorted(i.names[0] for i in images) == ["app:1", "other:1"]


def test_pulls_are_serialized():
    sim = Sim()
    sim.api.create(_pod("a", "app:1"))
    sim.api.create(_pod("b", "other:1"))
    sim.env.run(until=30)
    first = _pull_seconds("app:1")
    second = LayerStore().plan_pull(IMAGES["other:1"]).download_bytes / BW - BASE_BLOB / BW
    assert sim.times("Pulled", "pod/default/b") == [pytest.approx(first + second)]


BASE_BLOB = LayerStore().plan_pull(Image(layers=(BASE,))).download_bytes


def test_unknown_image_backs_off():
    sim = Sim()
    sim.api.create(_pod("bad", "nope:1"))
    sim.env.run(until=1000)
    assert sim.times("Pulling") == [0, 10, 30, 70, 150, 310, 610, 910]
    reasons = [s["state"]["waiting"]["reason"] for _, _, s in sim.statuses if "waiting" in s["state"]]
    assert reasons[1:5] == ["ErrImagePull", "ImagePullBackOff", "ErrImagePull", "ImagePullBackOff"]
    assert sim.api.get("Pod", "bad", "default").status.phase == "Pending"


def test_crash_loop_backoff_delays():
    sim = Sim(container_start_s=0.0)
    sim.api.create(_pod("crash", annotations={"kbook.io/exit-after-seconds": "1", "kbook.io/exit-code": "2"}))
    sim.env.run(until=1500)
    died, started = sim.times("ContainerDied"), sim.times("Started")
    delays = [round(s - d, 6) for d, s in zip(died, started[1:])]
    assert delays[:9] == [0, 10, 20, 40, 80, 160, 300, 300, 300]
    pod = sim.api.get("Pod", "crash", "default")
    status = pod.status.container_statuses[0]
    assert status["lastState"]["terminated"]["exitCode"] == 2
    assert status["lastState"]["terminated"]["reason"] == "Error"
    assert status["restartCount"] == len(started) - 1
    waiting = [s["state"]["waiting"] for _, _, s in sim.statuses if "waiting" in s["state"]]
    assert waiting[-1]["reason"] == "CrashLoopBackOff" and waiting[-1]["message"].startswith("back-off 5m0s")
    assert pod.status.phase == "Running"


def test_crash_loop_backoff_resets_after_ten_minutes_running():
    sim = Sim(container_start_s=0.0)
    sim.api.create(_pod("slow", annotations={"kbook.io/exit-after-seconds": "700"}))
    sim.env.run(until=3000)
    died, started = sim.times("ContainerDied"), sim.times("Started")
    assert [s - d for d, s in zip(died, started[1:])] == [0, 0, 0, 0]


@pytest.mark.parametrize("policy, code, phase, starts", [
    ("Never", 1, "Failed", 1), ("OnFailure", 0, "Succeeded", 1), ("OnFailure", 1, "Running", 2)])
def test_restart_policy(policy, code, phase, starts):
    sim = Sim(container_start_s=0.0)
    sim.api.create(_pod("job", restart_policy=policy))
    sim.at(5, sim.kubelet.exit_container, "default/job", "main", code)
    sim.env.run(until=10)
    assert sim.api.get("Pod", "job", "default").status.phase == phase
    assert len(sim.times("Started")) == starts


def test_lease_renewals_and_stop():
    sim = Sim()
    sim.at(35, sim.kubelet.stop)
    sim.env.run(until=100)
    lease = ("lease/kube-node-lease/n1")
    assert sim.times("CreateLease", lease) == [0]
    assert sim.times("RenewLease", lease) == [10, 20, 30]
    renewed = sim.api.get("Lease", "n1", "kube-node-lease")
    assert renewed.spec.renew_time == "2026-01-01T00:00:30.000000Z"
    assert renewed.spec.lease_duration_seconds == 40 and renewed.spec.holder_identity == "n1"
    node = sim.api.get("Node", "n1")
    ready = next(c for c in node.status.conditions if c.type == "Ready")
    assert (ready.status, ready.reason) == ("True", "KubeletReady")
    assert not sim.kubelet.running


def test_node_status_written_on_change_or_report_period():
    sim = Sim(node_status_report_frequency_s=60.0)
    sim.env.run(until=125)
    assert sim.times("UpdateNodeStatus") == [0, 60, 120]
    sim2 = Sim(node_status_report_frequency_s=10.0)
    sim2.env.run(until=35)
    assert sim2.times("UpdateNodeStatus") == [0, 10, 20, 30]


def test_deletion_is_confirmed():
    sim = Sim()
    sim.api.create(_pod("web"))
    sim.env.run(until=10)
    assert len(sim.kubelet.runtime.containers) == 1
    sim.api.delete("Pod", "web", "default")  # graceful: sets deletionTimestamp
    sim.env.run(until=11)
    assert not sim.kubelet.runtime.containers
    with pytest.raises(NotFound):
        sim.api.get("Pod", "web", "default")
    assert sim.times("Killing") == [10] and sim.times("DeletePod") == [10]
    last = [s for _, name, s in sim.statuses if name == "web"][-2]  # the final status before DELETED
    assert last["phase"] == "Succeeded" and last["state"]["terminated"]["exitCode"] == 0
    assert not sim.kubelet.pods


def test_stopped_kubelet_leaves_pods_alone():
    sim = Sim()
    sim.api.create(_pod("web"))
    sim.at(2, sim.kubelet.stop)  # during the image pull
    sim.env.run(until=50)
    assert sim.times("Pulled") == [] and sim.times("RenewLease") == []
    assert sim.api.get("Pod", "web", "default").status.phase == "Pending"


def test_bad_failure_annotations_are_reported_and_ignored():
    sim = Sim(container_start_s=0.0)
    sim.api.create(_pod("odd", annotations={"kbook.io/exit-after-seconds": "soon", "kbook.io/exit-code": "x"}))
    sim.env.run(until=30)
    assert [r.detail.split(":")[0] for r in sim.log.records if r.verb == "InvalidAnnotation"] == [
        "kbook.io/exit-after-seconds", "kbook.io/exit-code"]
    assert sim.times("ContainerDied") == [] and sim.api.get("Pod", "odd", "default").status.phase == "Running"
