package kevents

// initPIDNamespace is the inode of the initial PID namespace
// (PROC_PID_INIT_INO in linux/proc_ns.h), fixed since Linux 3.8.
const initPIDNamespace = "pid:[4026531836]"

// initialPIDNamespace reports whether link, what /proc/self/ns/pid links
// to, names the initial PID namespace.
func initialPIDNamespace(link string) bool { return link == initPIDNamespace }
