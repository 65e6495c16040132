"""``kbook.controlplane.controllers``: client-go's informer and work queue, and the
controllers of kube-controller-manager (ReplicaSet, Deployment, node lifecycle, taint
eviction, garbage collector), as SimPy processes in simulated time.

    manager = ControllerManager(env, api, log=log, rng=rng)
    manager.start()          # shared informers LIST+WATCH, controllers reconcile
    env.run(until=600)
    manager.stop(); manager.start()   # a controller-manager restart
"""

from kbook.controlplane.controllers.deployment import DeploymentController
from kbook.controlplane.controllers.garbagecollector import GarbageCollector
from kbook.controlplane.controllers.hpa import HorizontalController
from kbook.controlplane.controllers.informer import EventHandler, Indexer, InformerFactory, SharedInformer
from kbook.controlplane.controllers.manager import CONTROLLERS, ControllerManager
from kbook.controlplane.controllers.nodelifecycle import (
    NODE_MONITOR_GRACE_PERIOD,
    NODE_MONITOR_PERIOD,
    NODE_STARTUP_GRACE_PERIOD,
    NodeLifecycleController,
)
from kbook.controlplane.controllers.replicaset import BURST_REPLICAS, ReplicaSetController
from kbook.controlplane.controllers.tainteviction import DEFAULT_TOLERATION_SECONDS, TaintEvictionController
from kbook.controlplane.controllers.workqueue import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    RateLimitingQueue,
    default_controller_rate_limiter,
)

__all__ = [
    "HorizontalController",
    "ControllerManager",
    "CONTROLLERS",
    "ReplicaSetController",
    "DeploymentController",
    "NodeLifecycleController",
    "TaintEvictionController",
    "GarbageCollector",
    "SharedInformer",
    "InformerFactory",
    "Indexer",
    "EventHandler",
    "RateLimitingQueue",
    "ItemExponentialFailureRateLimiter",
    "BucketRateLimiter",
    "MaxOfRateLimiter",
    "default_controller_rate_limiter",
    "BURST_REPLICAS",
    "NODE_MONITOR_PERIOD",
    "NODE_MONITOR_GRACE_PERIOD",
    "NODE_STARTUP_GRACE_PERIOD",
    "DEFAULT_TOLERATION_SECONDS",
]
