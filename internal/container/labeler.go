package container

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"
)

// Config sets up a Labeler. Empty roots take the defaults.
type Config struct {
	// ProcRoot holds PID/cgroup ("/proc").
	ProcRoot string
	// DockerRoot is Docker's data directory, holding
	// containers/ID/config.v2.json ("/var/lib/docker").
	DockerRoot string
	// PodLogRoot holds kubelet's NAMESPACE_POD_UID directories
	// ("/var/log/pods").
	PodLogRoot string
	// Now is the clock for the caches' retry intervals (nil: time.Now).
	Now func() time.Time
}

// Default roots.
const (
	DefaultProcRoot   = "/proc"
	DefaultDockerRoot = "/var/lib/docker"
	DefaultPodLogRoot = "/var/log/pods"
)

// Cache bounds and timing.
const (
	// maxNames bounds the name cache; when full it starts over.
	maxNames = 4096
	// maxPods bounds the pod directory listing kept.
	maxPods = 4096
	// retryMissing is how long a name or pod found missing stays missing
	// before the files are read again (a container being created).
	retryMissing = time.Second
	// maxConfigFile bounds what is read of a config.v2.json.
	maxConfigFile = 1 << 20
	// maxNameLen bounds a name read from a file.
	maxNameLen = 256
)

// Labeler labels processes and cgroup paths. It is safe for concurrent
// use.
type Labeler struct {
	procRoot, dockerRoot, podLogRoot string
	now                              func() time.Time

	mu    sync.Mutex
	names map[string]cachedName // container ID → name ("" : none found)
	pods  map[string]podName    // pod UID → namespace, pod name
	// podsRead limits the listings of /var/log/pods.
	podsRead missGate
}

type cachedName struct {
	name string
	at   time.Time
}

type podName struct{ namespace, pod string }

// NewLabeler returns a Labeler reading the files under cfg's roots.
func NewLabeler(cfg Config) *Labeler {
	l := &Labeler{
		procRoot:   or(cfg.ProcRoot, DefaultProcRoot),
		dockerRoot: or(cfg.DockerRoot, DefaultDockerRoot),
		podLogRoot: or(cfg.PodLogRoot, DefaultPodLogRoot),
		now:        cfg.Now,
		names:      map[string]cachedName{},
		pods:       map[string]podName{},
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Process labels process pid from PROCROOT/PID/cgroup. The cgroup v2 path
// is preferred; on a host with cgroup v1 hierarchies the first path that
// names a container (else a service) is used. A process that has exited
// returns an error wrapping ErrNoProcess.
func (l *Labeler) Process(pid int) (Label, error) {
	lines, err := readCgroupFile(l.procRoot, pid)
	if err != nil {
		return Label{}, err
	}
	return l.Path(bestPath(lines)), nil
}

// bestPath picks the cgroup path that says most: a container before a
// service before nothing, the v2 line first among equals.
func bestPath(lines []CgroupLine) string {
	best, rank := "", -1
	for pass := range 2 {
		for _, ln := range lines {
			if ln.V2() != (pass == 0) {
				continue
			}
			r := 0
			switch lb := PathLabel(ln.Path); {
			case lb.Container():
				r = 2
			case !lb.IsZero():
				r = 1
			}
			if r > rank {
				best, rank = ln.Path, r
			}
		}
	}
	return best
}

// CgroupID labels the cgroup v2 id a socket's creator was in
// (sock_diag's INET_DIAG_CGROUP_ID), through ids: a flow whose process
// cannot be found still shows under its container or service. false when
// the id maps to no cgroup (removed, or not walked yet).
func (l *Labeler) CgroupID(ids *CgroupIDs, id uint64) (Label, bool) {
	path, ok := ids.Path(id)
	if !ok {
		return Label{}, false
	}
	return l.Path(path), true
}

// Path labels a cgroup path and names what it recognised.
func (l *Labeler) Path(path string) Label {
	lb := PathLabel(path)
	if !lb.Container() {
		return lb
	}
	if lb.ID != "" {
		lb.Name = l.containerName(lb)
	}
	if lb.PodUID != "" {
		if p, ok := l.pod(lb.PodUID); ok {
			lb.Namespace, lb.Pod = p.namespace, p.pod
		}
		if lb.Name == "" {
			lb.Name = lb.Pod
			if lb.Name == "" {
				lb.Name = "pod " + lb.PodUID
			}
		}
	}
	return lb
}

// containerName is Docker's name for a Docker container, else the short
// ID.
func (l *Labeler) containerName(lb Label) string {
	if lb.Runtime != Docker {
		return ShortID(lb.ID)
	}
	now := l.now()
	l.mu.Lock()
	c, ok := l.names[lb.ID]
	l.mu.Unlock()
	if !ok || (c.name == "" && now.Sub(c.at) >= retryMissing) {
		name, _ := readDockerName(l.dockerRoot + "/containers/" + lb.ID + "/config.v2.json")
		c = cachedName{name: name, at: now}
		l.mu.Lock()
		if len(l.names) >= maxNames {
			clear(l.names)
		}
		l.names[lb.ID] = c
		l.mu.Unlock()
	}
	if c.name == "" {
		return ShortID(lb.ID)
	}
	return c.name
}

// readDockerName reads the container's name from its config.v2.json.
func readDockerName(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return DockerName(io.LimitReader(f, maxConfigFile))
}

// errNoName reports a config.v2.json without a usable "Name".
var errNoName = errors.New("container: no Name in Docker's config.v2.json")

// DockerName extracts the container's name from a Docker config.v2.json:
// its "Name" without the leading "/". Only that field is decoded.
func DockerName(r io.Reader) (string, error) {
	var cfg struct{ Name string }
	if err := json.NewDecoder(r).Decode(&cfg); err != nil {
		return "", err
	}
	name := strings.TrimPrefix(cfg.Name, "/")
	if name == "" || len(name) > maxNameLen {
		return "", errNoName
	}
	return name, nil
}

// pod finds a pod's namespace and name in kubelet's log directory,
// listing it again on a miss at most once per retryMissing.
func (l *Labeler) pod(uid string) (podName, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, ok := l.pods[uid]; ok {
		return p, true
	}
	if !l.podsRead.open(l.now(), retryMissing) {
		return podName{}, false
	}
	clear(l.pods)
	entries, err := os.ReadDir(l.podLogRoot)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return podName{}, false
	}
	for _, e := range entries {
		if len(l.pods) >= maxPods {
			break
		}
		if ns, pod, puid, ok := ParsePodLogDir(e.Name()); ok {
			l.pods[puid] = podName{namespace: ns, pod: pod}
		}
	}
	p, ok := l.pods[uid]
	return p, ok
}

// ParsePodLogDir splits a kubelet pod log directory name,
// NAMESPACE_POD_UID. Namespaces and pod names are DNS labels and
// subdomains, which hold no "_", so the split is unambiguous.
func ParsePodLogDir(name string) (namespace, pod, uid string, ok bool) {
	namespace, rest, ok1 := strings.Cut(name, "_")
	pod, uid, ok2 := strings.Cut(rest, "_")
	if !ok1 || !ok2 || namespace == "" || pod == "" || len(namespace) > maxNameLen || len(pod) > maxNameLen {
		return "", "", "", false
	}
	if u, ok := podUID("pod" + uid); !ok || u != uid {
		return "", "", "", false
	}
	return namespace, pod, uid, true
}

// missGate limits how often a cache that missed looks at the files again.
type missGate struct{ last time.Time }

// open reports whether a look may be taken now (none was taken in the
// last interval), and if so records it.
func (g *missGate) open(now time.Time, interval time.Duration) bool {
	if !g.last.IsZero() && now.Sub(g.last) < interval {
		return false
	}
	g.last = now
	return true
}
