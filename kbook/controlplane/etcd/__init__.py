"""``kbook.controlplane.etcd``: a multi-version key-value store with etcd's semantics, embedded or real."""
