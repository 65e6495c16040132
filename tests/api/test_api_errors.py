"""Invalid manifests, each with the exact lines Kubernetes would report for it."""

import pytest

from kbook.api import Deployment, load_file, loads, validate
from kbook.errors import KbookError, ManifestError

DNS1123_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    r"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS1123_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_LABEL = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
NAME_PART = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
QUANTITY_REGEX = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


def deployment(spec: str = "", meta: str = "", pod: str = "", container: str = "", labels: str = "{app: web}") -> str:
    """A valid Deployment manifest with extra YAML spliced into it (flow-style fragments)."""
    return (
        "apiVersion: apps/v1\nkind: Deployment\n"
        f"metadata: {{name: web{meta}}}\n"
        f"spec: {{selector: {{matchLabels: {{app: web}}}}{spec},\n"
        f"  template: {{metadata: {{labels: {labels}}},\n"
        f"    spec: {{containers: [{{name: web, image: nginx{container}}}]{pod}}}}}}}\n"
    )


def pod(spec: str = "", container: str = "", meta: str = "") -> str:
    """A valid Pod manifest with extra YAML spliced into it."""
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{meta}}}\n"
        f"spec: {{containers: [{{name: c, image: busybox{container}}}]{spec}}}\n"
    )


def hpa(spec: str) -> str:
    return (
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\n"
        f"spec: {{scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}, maxReplicas: 5{spec}}}\n"
    )


D = 'bad.yaml: Deployment.apps "web" (document 1): '
P = 'bad.yaml: Pod "p" (document 1): '
H = 'bad.yaml: HorizontalPodAutoscaler.autoscaling "web" (document 1): '
S = 'bad.yaml: Service "web" (document 1): '
N = 'bad.yaml: Node "n" (document 1): '
C = "spec.template.spec.containers[0]"

CASES = [
    # -- object metadata
    ("name", deployment().replace("name: web}", "name: Web_1}"), [
        'bad.yaml: Deployment.apps "Web_1" (document 1): metadata.name: Invalid value: "Web_1": ' + DNS1123_SUBDOMAIN,
    ]),
    ("missing name", pod().replace("{name: p}", "{}"), [
        'bad.yaml: Pod "" (document 1): metadata.name: Required value: name or generateName is required',
    ]),
    ("namespace", pod(meta=", namespace: Shop"), [P + 'metadata.namespace: Invalid value: "Shop": ' + DNS1123_LABEL]),
    ("label key", deployment(meta=", labels: {'a/b/c': x, 'ok': 'no good'}"), [
        D + 'metadata.labels: Invalid value: "a/b/c": a qualified name must consist of alphanumeric characters, '
        "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
        "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
        "subdomain prefix and '/' (e.g. 'example.com/MyName')",
        D + 'metadata.labels: Invalid value: "no good": ' + LABEL_VALUE,
    ]),
    ("label key too long", pod(meta=", labels: {" + "k" * 64 + ": v}"), [
        P + f'metadata.labels: Invalid value: "{"k" * 64}": name part must be no more than 63 characters',
    ]),
    ("annotations size", pod(meta=", annotations: {big: '" + "x" * (256 * 1024) + "'}"), [
        P + "metadata.annotations: Too long: must have at most 262144 bytes",
    ]),
    ("finalizer", pod(meta=", finalizers: [cleanup]"), [
        P + 'metadata.finalizers[0]: Invalid value: "cleanup": name is neither a standard finalizer name nor is '
        "it fully qualified",
    ]),
    ("service name", "apiVersion: v1\nkind: Service\nmetadata: {name: 9web}\nspec: {ports: [{port: 80}]}\n", [
        'bad.yaml: Service "9web" (document 1): metadata.name: Invalid value: "9web": ' + DNS1035_LABEL,
    ]),
    # -- apps/v1
    ("replicas", deployment(spec=", replicas: -1"), [
        D + "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    ]),
    ("selector required", deployment().replace("selector: {matchLabels: {app: web}},", ""), [
        D + "spec.selector: Required value",
        D + 'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: '
        "`selector` does not match template `labels`",
    ]),
    ("selector empty", deployment().replace("selector: {matchLabels: {app: web}}", "selector: {}"), [
        D + "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
    ]),
    ("selector mismatch", deployment(labels="{app: api, tier: fe}"), [
        D + 'spec.template.metadata.labels: Invalid value: map[string]string{"app":"api", "tier":"fe"}: '
        "`selector` does not match template `labels`",
    ]),
    ("template without labels", deployment(labels="{}"), [
        D + "spec.template.metadata.labels: Invalid value: map[string]string(nil): "
        "`selector` does not match template `labels`",
    ]),
    ("selector operator", deployment().replace(
        "selector: {matchLabels: {app: web}}", "selector: {matchExpressions: [{key: app, operator: Is, values: [web]}]}"
    ), [
        D + 'spec.selector.matchExpressions[0].operator: Invalid value: "Is": not a valid selector operator',
        D + "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:"
        '[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"app", Operator:"Is", Values:[]string{"web"}}}}'
        ": invalid label selector",
    ]),
    ("template labels", deployment(labels="{app: web, 'bad key': x}"), [
        D + 'spec.template.labels: Invalid value: "bad key": ' + NAME_PART,  # sic: not .metadata.labels
    ]),
    ("pod restart policy", deployment(pod=", restartPolicy: Never"), [
        D + 'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]),
    ("rolling update zero", deployment(spec=", strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}"), [
        D + "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0",
    ]),
    ("rolling update percent", deployment(spec=", strategy: {rollingUpdate: {maxSurge: 10x, maxUnavailable: 120%}}"), [
        D + "spec.strategy.rollingUpdate.maxSurge: Invalid value: 10x: a valid percent string must be a numeric "
        "string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        D + "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 120%: must not be greater than 100%",
    ]),
    ("recreate with rolling update", deployment(spec=", strategy: {type: Recreate, rollingUpdate: {maxSurge: 1}}"), [
        D + "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
    ]),
    ("progress deadline", deployment(spec=", minReadySeconds: 30, progressDeadlineSeconds: 30"), [
        D + "spec.progressDeadlineSeconds: Invalid value: 30: must be greater than minReadySeconds",
    ]),
    ("replicaset", "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: rs}\nspec: {replicas: -2, selector: "
     "{matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: x}]}}}\n", [
        'bad.yaml: ReplicaSet.apps "rs" (document 1): spec.replicas: Invalid value: -2: '
        "must be greater than or equal to 0",
    ]),
    # -- containers
    ("image required", deployment().replace(", image: nginx", ""), [D + f"{C}.image: Required value"]),
    ("container name", deployment().replace("name: web, image", "name: Web, image"), [
        D + f'{C}.name: Invalid value: "Web": ' + DNS1123_LABEL,
    ]),
    ("container name required and unique", pod(spec=", initContainers: [{name: c, image: x}, {image: y}]"), [
        P + 'spec.initContainers[0].name: Duplicate value: "c"',
        P + "spec.initContainers[1].name: Required value",
    ]),
    ("no containers", pod().replace("containers: [{name: c, image: busybox}]", "containers: []"), [
        P + "spec.containers: Required value",
    ]),
    ("ports", pod(container=", ports: [{containerPort: 0}, {containerPort: 70000, hostPort: -1, protocol: ICMP, "
                  "name: HTTP}]"), [
        P + "spec.containers[0].ports[0].containerPort: Required value",
        P + 'spec.containers[0].ports[1].name: Invalid value: "HTTP": must contain only alpha-numeric characters '
        "(a-z, 0-9), and hyphens (-)",
        P + 'spec.containers[0].ports[1].name: Invalid value: "HTTP": must contain at least one letter (a-z)',
        P + "spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        P + "spec.containers[0].ports[1].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive",
        P + 'spec.containers[0].ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    ]),
    ("requests above limits", deployment(container=", resources: {requests: {cpu: '2'}, limits: {cpu: '1'}}"), [
        D + f'{C}.resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    ]),
    ("negative quantity", pod(container=", resources: {requests: {memory: -1Gi}}"), [
        P + 'spec.containers[0].resources.requests[memory]: Invalid value: "-1Gi": must be greater than or equal to 0',
    ]),
    ("resource names", pod(container=", resources: {limits: {gpu: 1, pods: 1, example.com/dongle: 1.5}}"), [
        # SetDefaults_Pod copies the limits into the missing requests first, so both are reported.
        P + f"spec.containers[0].resources.{kind}[{name}]: {problem}"
        for kind in ("limits", "requests")
        for name, problem in [
            ("example.com/dongle", "Invalid value: 1500m: must be an integer"),
            ("gpu", "Invalid value: gpu: must be a standard resource type or fully qualified"),
            ("gpu", "Invalid value: gpu: must be a standard resource for containers"),
            ("pods", "Invalid value: pods: must be a standard resource for containers"),
        ]
    ]),
    ("extended resource without limit", pod(container=", resources: {requests: {example.com/dongle: 1}}"), [
        P + "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources",
    ]),
    ("env", pod(container=", env: [{name: 'A=B'}, {value: x}]"), [
        P + 'spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist '
        "only of printable ASCII characters other than '='",
        P + "spec.containers[0].env[1].name: Required value",
    ]),
    ("pull policy", pod(container=", imagePullPolicy: Sometimes"), [
        P + 'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", '
        '"IfNotPresent", "Never"',
    ]),
    ("probe", pod(container=", livenessProbe: {httpGet: {port: 0}, tcpSocket: {port: 80}, successThreshold: 3}"), [
        P + "spec.containers[0].livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive",
        P + "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
        P + "spec.containers[0].livenessProbe.successThreshold: Invalid value: 3: must be 1",
    ]),
    ("sidecar", pod(spec=", initContainers: [{name: i, image: x, restartPolicy: Never, livenessProbe: "
                    "{exec: {command: [a]}}}]"), [
        P + 'spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always"',
        P + "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without "
        "restartPolicy=Always",
    ]),
    # -- scheduling constraints
    ("tolerations", pod(spec=", tolerations: [{operator: Equal, value: a}, {key: k, operator: Exists, value: v}, "
                        "{key: k, effect: NoRun}, {key: k, operator: In, tolerationSeconds: 1}]"), [
        P + 'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, '
        'which means "match all values and all keys"',
        P + "spec.tolerations[1].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
        P + 'spec.tolerations[2].effect: Unsupported value: "NoRun": supported values: "NoSchedule", '
        '"PreferNoSchedule", "NoExecute"',
        P + "spec.tolerations[3].effect: Invalid value: \"\": effect must be 'NoExecute' when `tolerationSeconds` "
        "is set",
        P + 'spec.tolerations[3].operator: Unsupported value: "In": supported values: "Equal", "Exists"',
    ]),
    ("node selector terms", pod(spec=", affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
                                "{nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In}, {key: cpu, "
                                "operator: Gt, values: ['1', '2']}, {key: z, operator: Near}]}]}}}"), [
        P + "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
        ".matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
        P + "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
        ".matchExpressions[1].values: Required value: must be specified single value when `operator` is 'Lt' or 'Gt'",
        P + "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
        '.matchExpressions[2].operator: Invalid value: "Near": not a valid selector operator',
    ]),
    ("empty node selector", pod(spec=", affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
                                "{nodeSelectorTerms: []}}}"), [
        P + "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: "
        "Required value: must have at least one node selector term",
    ]),
    ("pod affinity", pod(spec=", affinity: {podAffinity: {preferredDuringSchedulingIgnoredDuringExecution: "
                         "[{weight: 0, podAffinityTerm: {topologyKey: zone}}], "
                         "requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {}}]}}"), [
        P + "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: "
        "Required value: can not be empty",
        P + 'spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: '
        '"": name part must be non-empty',
        P + 'spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: '
        '"": ' + NAME_PART,
        P + "spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: "
        "must be in the range 1-100",
    ]),
    ("topology spread", pod(spec=", topologySpreadConstraints: [{maxSkew: 0, topologyKey: zone, "
                            "whenUnsatisfiable: Maybe}]"), [
        P + "spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero",
        P + 'spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: "Maybe": supported values: '
        '"DoNotSchedule", "ScheduleAnyway"',
    ]),
    ("node name and priority class", pod(spec=", nodeName: Node_1, priorityClassName: High"), [
        P + 'spec.nodeName: Invalid value: "Node_1": ' + DNS1123_SUBDOMAIN,
        P + 'spec.priorityClassName: Invalid value: "High": ' + DNS1123_SUBDOMAIN,
    ]),
    ("pod deletion cost", pod(meta=", annotations: {controller.kubernetes.io/pod-deletion-cost: '007'}"), [
        P + 'metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid value: "007": '
        "must be a 32bit integer",
    ]),
    # -- nodes
    ("taints", "apiVersion: v1\nkind: Node\nmetadata: {name: n}\nspec: {taints: [{key: gpu, effect: NoSchedule}, "
     "{key: gpu, effect: NoSchedule}, {key: x, value: 'a b'}, {key: y, effect: Never}]}\n", [
        N + 'metadata.taints[1]: Duplicate value: core.Taint{Key:"gpu", Value:"", Effect:"NoSchedule", '
        "TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and effect pair",
        N + 'metadata.taints[2].value: Invalid value: "a b": ' + LABEL_VALUE,
        N + "metadata.taints[2].effect: Required value",
        N + 'metadata.taints[3].effect: Unsupported value: "Never": supported values: "NoSchedule", '
        '"PreferNoSchedule", "NoExecute"',
    ]),
    ("node capacity", "apiVersion: v1\nkind: Node\nmetadata: {name: n}\nstatus: {capacity: {cpu: '-1'}, "
     "allocatable: {pods: 1500m}}\n", [
        N + 'status.capacity.cpu: Invalid value: "-1": must be greater than or equal to 0',
        N + "status.allocatable.pods: Invalid value: 1500m: must be an integer",
    ]),
    ("node cidr", "apiVersion: v1\nkind: Node\nmetadata: {name: n}\nspec: {podCIDR: 10.0.0.0/33}\n", [
        N + 'spec.podCIDRs[0]: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or '
        "2001:db8::/64)",
    ]),
    # -- services
    ("service ports", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80, protocol: "
     "HTTP}, {name: a, port: 80, targetPort: 0}, {name: a, port: 0, nodePort: 30000}, {name: c, port: 80}]}\n", [
        S + "spec.ports[0].name: Required value",
        S + 'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
        S + 'spec.ports[2].name: Duplicate value: "a"',
        S + "spec.ports[2].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        S + "spec.ports[2].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
        S + "spec.ports[2].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
        S + 'spec.ports[3]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), '
        'Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    ]),
    ("service type and affinity", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {type: Public, "
     "sessionAffinity: Sticky, ports: [{port: 80}]}\n", [
        S + 'spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"',
        S + 'spec.type: Unsupported value: "Public": supported values: "ClusterIP", "ExternalName", "LoadBalancer", '
        '"NodePort"',
    ]),
    ("service cluster IP", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {clusterIP: 10.0.0.300, "
     "ports: [{port: 80}]}\n", [
        S + 'spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or '
        "2001:db8::ffff)",
    ]),
    # -- autoscaling/v2
    ("hpa replicas", hpa(", minReplicas: 0").replace("maxReplicas: 5", "maxReplicas: 0"), [
        H + "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
        H + "spec.maxReplicas: Invalid value: 0: must be greater than 0",
        H + "spec.metrics: Forbidden: must specify at least one Object or External metric to support scaling to "
        "zero replicas",
    ]),
    ("hpa max below min", hpa(", minReplicas: 6"), [
        H + "spec.maxReplicas: Invalid value: 5: must be greater than or equal to `minReplicas`",
    ]),
    ("hpa target ref", hpa("").replace("kind: Deployment, name: web", "kind: '', name: a/b"), [
        H + "spec.scaleTargetRef.kind: Required value",
        H + "spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'",
    ]),
    ("hpa metric source", hpa(", metrics: [{type: Resource, pods: {metric: {name: rps}, target: {type: "
                              "AverageValue, averageValue: 10}}}, {type: Volume}]"), [
        H + "spec.metrics[0].resource: Required value: must populate information for the given metric source",
        H + 'spec.metrics[1].type: Unsupported value: "Volume": supported values: "ContainerResource", "External", '
        '"Object", "Pods", "Resource"',
    ]),
    ("hpa metric target", hpa(", metrics: [{type: Resource, resource: {name: cpu, target: {type: Percent, "
                              "averageUtilization: 0}}}, {type: External, external: {metric: {name: q}, target: "
                              "{type: Value, value: -1, averageValue: 1}}}]"), [
        H + 'spec.metrics[0].resource.target.type: Invalid value: "Percent": must be either Utilization, Value, '
        "or AverageValue",
        H + "spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0",
        H + "spec.metrics[1].external.target.value: Invalid value: -1: must be positive",
        H + "spec.metrics[1].external.target.value: Forbidden: may not set both a target value for metric and a "
        "per-pod target",
    ]),
    ("hpa pods metric", hpa(", metrics: [{type: Pods, pods: {metric: {name: rps}, target: {type: Value, value: 1}}}]"),
     [
        H + "spec.metrics[0].pods.target.averageValue: Required value: must specify a positive target averageValue",
    ]),
    ("hpa behavior", hpa(", behavior: {scaleUp: {stabilizationWindowSeconds: 3601, selectPolicy: Fastest, policies: "
                         "[{type: Nodes, value: 0, periodSeconds: 1801}]}, scaleDown: {policies: [{type: Pods, "
                         "value: 1, periodSeconds: 0}]}}"), [
        H + "spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 3601: must be less than or equal to 3600",
        H + 'spec.behavior.scaleUp.selectPolicy: Unsupported value: "Fastest": supported values: "Disabled", "Max", '
        '"Min"',
        H + 'spec.behavior.scaleUp.policies[0].type: Unsupported value: "Nodes": supported values: "Percent", "Pods"',
        H + "spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero",
        H + "spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800",
        H + "spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value: 0: must be greater than zero",
    ]),
    # -- decoding
    ("unknown field", deployment(container=", imagePullPolicyy: Always"), [
        D + 'unknown field "spec.template.spec.containers[0].imagePullPolicyy"',
    ]),
    ("unknown top-level field", pod() + "extra: 1\n", [P + 'unknown field "extra"']),
    ("duplicate field", deployment().replace("spec: {selector", "spec: {replicas: 1, replicas: 2, selector"), [
        D + 'duplicate field "spec.replicas"',
    ]),
    ("wrong types", deployment(spec=", replicas: '3', paused: on-sale", container=", ports: [{containerPort: 1.5}]"),
     [
        D + "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
        D + "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool",
        D + "json: cannot unmarshal number 1.5 into Go struct field ContainerPort.spec.template.spec.containers.ports"
        ".containerPort of type int32",
    ]),
    ("wrong container types", pod(container=", command: sleep, env: [{name: A, value: 1}]").replace("busybox", "1.2"),
     [
        P + "json: cannot unmarshal number into Go struct field Container.spec.containers.image of type string",
        P + "json: cannot unmarshal string into Go struct field Container.spec.containers.command of type []string",
        P + "json: cannot unmarshal number into Go struct field EnvVar.spec.containers.env.value of type string",
    ]),
    ("wrong struct types", pod(spec=", affinity: [], tolerations: {}").replace("{name: p}", "{name: p, labels: "
                                                                                "{version: 2}}"), [
        P + "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string",
        P + "json: cannot unmarshal array into Go struct field PodSpec.spec.affinity of type v1.Affinity",
        P + "json: cannot unmarshal object into Go struct field PodSpec.spec.tolerations of type []v1.Toleration",
    ]),
    ("int overflow", pod(spec=", priority: 2147483648, terminationGracePeriodSeconds: 9223372036854775808"), [
        P + "json: cannot unmarshal number 2147483648 into Go struct field PodSpec.spec.priority of type int32",
        P + "json: cannot unmarshal number 9223372036854775808 into Go struct field "
        "PodSpec.spec.terminationGracePeriodSeconds of type int64",
    ]),
    ("int or string", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80, targetPort: "
     "true}]}\n", [
        S + "json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of type int32",
    ]),
    ("bad quantity", pod(container=", resources: {limits: {cpu: 1 core}}"), [
        P + f"spec.containers[0].resources.limits[cpu]: cannot parse '1 core': {QUANTITY_REGEX}",
    ]),
    ("opaque shapes", pod(spec=", volumes: [cache], securityContext: []"), [
        P + "json: cannot unmarshal string into Go struct field PodSpec.spec.volumes of type v1.Volume",
        P + "json: cannot unmarshal array into Go struct field PodSpec.spec.securityContext of type "
        "v1.PodSecurityContext",
    ]),
    ("unknown kind", "apiVersion: bar/v1\nkind: Foo\nmetadata: {name: x}\n", [
        'bad.yaml: document 1: no matches for kind "Foo" in version "bar/v1"',
    ]),
    ("unsupported version", "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\n", [
        'bad.yaml: document 1: no matches for kind "HorizontalPodAutoscaler" in version "autoscaling/v1"',
    ]),
    ("missing kind", "apiVersion: v1\nmetadata: {name: x}\n", [
        """bad.yaml: document 1: Object 'Kind' is missing in '{"apiVersion":"v1","metadata":{"name":"x"}}'""",
    ]),
    ("missing apiVersion", "kind: Pod\n", [
        """bad.yaml: document 1: Object 'apiVersion' is missing in '{"kind":"Pod"}'""",
    ]),
    ("not an object", "- just\n- a list\n", [
        "bad.yaml: document 1: json: cannot unmarshal array into Go value of type struct { APIVersion string "
        '"json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }',
    ]),
    ("yaml syntax", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n   labels: {}\n", [
        "bad.yaml: document 1: yaml: line 5, column 10: mapping values are not allowed in this context",
    ]),
    ("yaml separator", "apiVersion: v1\n--- kind: Pod\n", ["bad.yaml: invalid Yaml document separator: kind: Pod"]),
    ("yaml infinity", pod(spec=", priority: .inf"), ["bad.yaml: document 1: json: unsupported value: +Inf"]),
    ("list items", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Nope}\n- {apiVersion: v1, kind: Pod, "
     "metadata: {name: p}, spec: {containers: [{name: c, image: x}]}, extra: 1}\n", [
        'bad.yaml: document 1, items[0]: no matches for kind "Nope" in version "v1"',
        'bad.yaml: Pod "p" (document 1, items[1]): unknown field "extra"',
    ]),
]  # fmt: skip


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_manifest(text: str, expected: list[str]) -> None:
    with pytest.raises(ManifestError) as info:
        loads(text, "bad.yaml")
    assert info.value.errors == expected
    assert str(info.value) == "\n".join(expected)


def test_every_problem_in_every_document_and_nothing_returned() -> None:
    good = deployment()
    bad_pod = pod(container=", resources: {requests: {cpu: '-1'}}")
    text = "\n---\n".join([good, bad_pod, "apiVersion: v1\nkind: Gadget\n", good.replace("replicas", "x"), hpa(
        ", minReplicas: 9"
    )])
    with pytest.raises(ManifestError) as info:
        loads(text, "app.yaml")
    assert info.value.errors == [
        'app.yaml: Pod "p" (document 2): spec.containers[0].resources.requests[cpu]: Invalid value: "-1": must be '
        "greater than or equal to 0",
        'app.yaml: document 3: no matches for kind "Gadget" in version "v1"',
        'app.yaml: HorizontalPodAutoscaler.autoscaling "web" (document 5): spec.maxReplicas: Invalid value: 5: '
        "must be greater than or equal to `minReplicas`",
    ]
    assert isinstance(info.value, KbookError)


def test_validation_runs_on_defaulted_objects_even_without_defaults() -> None:
    (obj,) = loads(deployment(), defaults=False)
    assert isinstance(obj, Deployment) and obj.spec.replicas is None
    assert validate(obj) == []
    with pytest.raises(ManifestError):
        loads(deployment(spec=", replicas: -1"), defaults=False)


def test_file_source_names_lines(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.yaml"
    path.write_text(deployment(spec=", replicas: -1"))
    with pytest.raises(ManifestError) as info:
        load_file(path)
    assert info.value.errors == [
        f'{path}: Deployment.apps "web" (document 1): spec.replicas: Invalid value: -1: '
        "must be greater than or equal to 0"
    ]
