// Package container tells which container, Kubernetes pod or systemd
// service a process or a socket belongs to, from cgroup paths and files on
// disk alone: no container runtime is asked.
//
// The contract:
//   - ParseCgroupLine and PathLabel read outside bytes and never panic;
//     PathLabel recognises Docker (docker-ID.scope, /docker/ID), containerd
//     and CRI (cri-containerd-ID.scope), CRI-O (crio-ID), Podman
//     (libpod-ID), Kubernetes pods (kubepods…podUID, "_" read as "-") and,
//     for processes in no container, the innermost systemd service
//     (NAME.service). IDs are 64 lowercase hex digits, pod UIDs 36
//     characters; anything else is no container.
//   - FallbackName names the owner row of a cgroup's sockets whose
//     process is not found: the service, container or pod where PathLabel
//     recognises one, else the cgroup's last path component (a scope, a
//     user's manager, a slice, any other cgroup; an init.scope by its
//     parent); "" for the root cgroup alone.
//   - A Labeler names what it recognised from files under injectable
//     roots: Docker's containers/ID/config.v2.json ("Name"), Kubernetes's
//     /var/log/pods/NAMESPACE_POD_UID; else the name is the 12-digit short
//     ID. Names found and names missing are cached, bounded, and looked up
//     again when missing for longer than a second.
//   - CgroupIDs maps a cgroup v2 id (INET_DIAG_CGROUP_ID; the inode number
//     of the cgroup's directory) to the cgroup's path by walking the
//     cgroup2 mount: cached, walked again on a miss at most once a second,
//     at most MaxCgroups directories.
//   - Strings read from files are returned raw (bounded in length);
//     sanitizing them for a terminal is the caller's job (ui.Sanitized).
package container
