"""``kbook.node``: the worker-node components, the kubelet (node registration, lease and
status heartbeats, pod lifecycle with image pulls through the layer store and restarts) and
kube-proxy (Service to endpoint selection: iptables random, IPVS round robin)."""

from kbook.node.backoff import BACKOFF_PERIOD, MAX_CONTAINER_BACKOFF, Backoff
from kbook.node.endpoints import Endpoint, endpoints_from_object, endpoints_from_pods, usable
from kbook.node.images import ERR_IMAGE_NEVER_PULL, ERR_IMAGE_PULL, IMAGE_PULL_BACKOFF, ImageManager, PullError
from kbook.node.kubelet import (
    DEFAULT_BANDWIDTH, EXIT_AFTER_ANNOTATION, EXIT_CODE_ANNOTATION, MAX_PODS, NODE_LEASE_DURATION_SECONDS,
    NODE_LEASE_NAMESPACE, NODE_LEASE_RENEW_INTERVAL_FRACTION, NODE_STATUS_REPORT_FREQUENCY,
    NODE_STATUS_UPDATE_FREQUENCY, Kubelet,
)
from kbook.node.iptables import affinity_timeout, probability, render_rules, sep_chain, service_port_name, svc_chain
from kbook.node.podstatus import KUBELET_CONDITIONS, ContainerRecord, pod_conditions, pod_phase
from kbook.node.proxy import ENDPOINTS, IPTABLES, IPVS, PODS, KubeProxy, iptables_pick
from kbook.node.timestamps import go_duration, micro_timestamp

__all__ = [
    "Kubelet", "ImageManager", "PullError", "Backoff", "ContainerRecord", "pod_phase", "pod_conditions",
    "BACKOFF_PERIOD", "MAX_CONTAINER_BACKOFF", "ERR_IMAGE_PULL", "IMAGE_PULL_BACKOFF", "ERR_IMAGE_NEVER_PULL",
    "NODE_LEASE_NAMESPACE", "NODE_LEASE_DURATION_SECONDS", "NODE_LEASE_RENEW_INTERVAL_FRACTION",
    "NODE_STATUS_UPDATE_FREQUENCY", "NODE_STATUS_REPORT_FREQUENCY", "MAX_PODS", "DEFAULT_BANDWIDTH",
    "EXIT_AFTER_ANNOTATION", "EXIT_CODE_ANNOTATION", "KUBELET_CONDITIONS",
    "micro_timestamp", "go_duration",
    "KubeProxy", "IPTABLES", "IPVS", "PODS", "ENDPOINTS", "iptables_pick", "Endpoint", "endpoints_from_pods",
    "endpoints_from_object", "usable",
    "probability", "render_rules", "service_port_name", "svc_chain", "sep_chain", "affinity_timeout",
]
