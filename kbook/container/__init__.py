"""``kbook.container``: containers as the kernel makes them: namespaces, cgroups, the OCI lifecycle."""
