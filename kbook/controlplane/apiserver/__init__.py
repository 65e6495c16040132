"""``kbook.controlplane.apiserver``: the Kubernetes API over an etcd store."""
