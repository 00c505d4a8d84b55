package container

import "strings"

// Runtimes named in Label.Runtime.
const (
	Docker     = "docker"
	Containerd = "containerd"
	CRIO       = "cri-o"
	Podman     = "podman"
	// CRI is a Kubernetes container whose runtime the path does not tell
	// (kubelet's cgroupfs layout: /kubepods/…/podUID/ID).
	CRI = "cri"
	// Systemd marks a Label naming a systemd service, not a container.
	Systemd = "systemd"
)

// Label is what a cgroup path tells about its processes. The zero Label is
// a host process in no container and no service.
type Label struct {
	// Runtime is one of the constants above ("" for none).
	Runtime string
	// ID is the container's full ID, or the service's unit name
	// ("nginx.service").
	ID string
	// Name is what to show: the container's name where a file tells it,
	// else its short ID; the unit name of a service.
	Name string
	// PodUID, Pod and Namespace describe the Kubernetes pod the container
	// is in (Pod and Namespace where /var/log/pods tells them).
	PodUID, Pod, Namespace string
}

// IsZero reports whether l names nothing.
func (l Label) IsZero() bool { return l == Label{} }

// Container reports whether l names a container or a pod (not a service).
func (l Label) Container() bool { return l.Runtime != "" && l.Runtime != Systemd }

// ShortID is the first 12 digits of a container ID, as docker ps shows it.
func ShortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// scopePrefixes are the unit-name prefixes of container scopes (systemd
// cgroup driver) or cgroups (cgroupfs driver), with their runtimes.
var scopePrefixes = [...]struct{ prefix, runtime string }{
	{"docker-", Docker},
	{"cri-containerd-", Containerd},
	{"crio-", CRIO},
	{"libpod-", Podman},
}

// PathLabel recognises the container, pod or service a cgroup path
// belongs to (see the package documentation); Name is left for a Labeler
// to fill. A path inside a container nested in another names the
// innermost container.
func PathLabel(path string) Label {
	var (
		l        Label
		service  string
		kubepods bool
		prev     string
	)
	for rest := path; rest != ""; {
		var comp string
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			comp, rest = rest[:i], rest[i+1:]
		} else {
			comp, rest = rest, ""
		}
		if comp == "" {
			continue
		}
		switch {
		case strings.HasPrefix(comp, "kubepods"):
			kubepods = true
			if uid, ok := podUID(comp); ok {
				l = Label{PodUID: uid}
			}
		case kubepods && strings.HasPrefix(comp, "pod"):
			if uid, ok := podUID(comp); ok {
				l = Label{PodUID: uid}
			}
		case prev == "docker" && isContainerID(comp):
			l = Label{Runtime: Docker, ID: comp, PodUID: l.PodUID}
		case l.PodUID != "" && isContainerID(comp):
			l = Label{Runtime: CRI, ID: comp, PodUID: l.PodUID}
		case strings.HasSuffix(comp, ".service"):
			service = comp
		default:
			unit := strings.TrimSuffix(comp, ".scope")
			for _, p := range scopePrefixes {
				if id, ok := strings.CutPrefix(unit, p.prefix); ok && isContainerID(id) {
					l = Label{Runtime: p.runtime, ID: id, PodUID: l.PodUID}
					break
				}
			}
		}
		prev = comp
	}
	if l.PodUID != "" && l.Runtime == "" {
		l.Runtime = CRI // a pod's own cgroup (its pause process, or all of its containers)
	}
	if l.IsZero() && service != "" {
		return Label{Runtime: Systemd, ID: service, Name: service}
	}
	return l
}

// podUID finds a pod UID in a kubelet cgroup name: "pod<uid>" (cgroupfs)
// or "kubepods-<qos>-pod<uid_with_underscores>.slice" (systemd).
func podUID(comp string) (string, bool) {
	comp = strings.TrimSuffix(comp, ".slice")
	i := strings.LastIndex(comp, "pod")
	if i < 0 || (i > 0 && comp[i-1] != '-') {
		return "", false
	}
	uid := comp[i+3:]
	if len(uid) != 36 {
		return "", false
	}
	b := []byte(uid)
	for j, c := range b {
		switch {
		case j == 8 || j == 13 || j == 18 || j == 23:
			if c != '-' && c != '_' {
				return "", false
			}
			b[j] = '-'
		case isHex(c):
		default:
			return "", false
		}
	}
	return string(b), true
}

// isContainerID reports whether s is a full container ID: 64 lowercase hex
// digits (Docker, containerd, CRI-O and Podman all use them).
func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// OwnerName is what hogs shows for the cgroup of sockets whose process it
// cannot find: a service's unit name ("ssh.service"), "container NAME
// (RUNTIME SHORTID)" (or "container SHORTID (RUNTIME)" when no name is
// known), "pod NAMESPACE/POD" for a pod's own cgroup. "" for a label that
// says no more than unknown would: none (the root cgroup, a user's slice
// or session scope) or a user's systemd manager (user@UID.service, which
// holds every process of the user's desktop).
func (l Label) OwnerName() string {
	switch {
	case l.Runtime == Systemd:
		if strings.HasPrefix(l.ID, "user@") {
			return ""
		}
		return l.ID
	case !l.Container():
		return ""
	case l.ID == "" && l.Pod != "":
		return "pod " + l.Namespace + "/" + l.Pod
	case l.ID == "":
		return "pod " + l.PodUID
	}
	short := ShortID(l.ID)
	if l.Name == "" || l.Name == short {
		return "container " + short + " (" + l.Runtime + ")"
	}
	return "container " + l.Name + " (" + l.Runtime + " " + short + ")"
}

// FallbackName is what hogs shows for the cgroup at path (relative to the
// cgroup2 mount, "/" for the root; l is what a Labeler made of it) when a
// socket created there has no process hogs can find: l.OwnerName() where
// that names a service, container or pod; else the cgroup's own name,
// the last component of path: a session scope ("session-3.scope"), a
// transient scope ("run-r1f2e.scope"), a user's manager
// ("user@1000.service"), a slice, a cgroup no systemd made. An
// init.scope below another cgroup holds that cgroup's manager, so it is
// named after its parent ("user@1000.service"). "" for the root cgroup
// alone: it holds every process of a host without cgroups of its own and
// says no more than unknown.
func FallbackName(path string, l Label) string {
	if name := l.OwnerName(); name != "" {
		return name
	}
	path = strings.Trim(path, "/")
	if path == "" {
		return ""
	}
	dir, name := "", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		dir, name = path[:i], path[i+1:]
	}
	if name == "init.scope" && dir != "" {
		name = dir[strings.LastIndexByte(dir, '/')+1:]
	}
	return name
}
