"""composer's own container runtime: namespaces, overlay rootfs, cgroups, security, init child."""
