"""``kbook.controlplane``: etcd, the API server and the controllers."""
