// Package netlab is the laboratory the live tests and the live benchmarks
// share: network namespaces, quiet veth pairs between them, programs run
// inside them, and what a program costs and what a link carried.
//
// Contract:
//   - A Lab records every namespace and process it creates; Lab.Cleanup
//     kills those processes (SIGKILL, by their own PID) and deletes those
//     namespaces, and afterwards the Lab creates nothing (ErrStopping).
//     Creating and cleaning up take the same lock. Nothing outside what a
//     Lab created is touched.
//   - Namespaces are named PREFIX-XXXXXXXX (random), so that runs by
//     several people on one machine do not collide. A Pair's link carries
//     only the traffic its user sends: IPv6 off, no IGMP reports,
//     multicast off, static ARP entries both ways.
//   - A Proc is started through `ip netns exec`, which execs the program:
//     its PID is the program's own, so its /proc readings are the
//     program's. It runs in its own process group and dies with the
//     process that started it (PR_SET_PDEATHSIG).
//   - A ServiceCgroup is a cgroup v2 directory shaped like a systemd
//     service (MOUNT/hogs-test-X.slice/hogs-NAME-X.service, on the cgroup2
//     mount /proc/self/mountinfo names); programs are started inside it
//     (Enter: clone3 into the cgroup, before they run), and Remove moves
//     what is left to the root cgroup and removes both directories.
//   - InNetns runs Go code on a locked OS thread that joined a namespace
//     and puts the thread back (or lets the runtime discard it); the
//     caller's goroutine never changes namespace.
//   - The readers (ReadSched, CPUTicks, ReadMemory, DeviceCounters) take a
//     PID or a namespace and device; their parsers (ParseSched, ParseStat,
//     ParseStatus, ParseCounters) take bytes and are tested on fixtures.
//   - Creating namespaces needs root and iproute2's ip. The helpers that
//     take a testing.TB (New, QuietVethPair, Run, IP, Sysctl, MAC,
//     ReadCounters) fail the test on error; New and QuietVethPair skip it
//     with a message saying what is missing (SkipUnlessAdmin) and remove
//     what they made in t.Cleanup. The other functions return errors, for
//     the benchmark programs.
package netlab
