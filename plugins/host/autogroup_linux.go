package host

import (
	"bytes"
	"os"
	"strconv"
)

// An autogroup is what /proc/PID/autogroup says of the scheduler group of
// a process's session.
type autogroup struct {
	id   int64 // > 0: the session's own group
	nice int
}

// parseAutogroup reads the contents of /proc/PID/autogroup,
// "/autogroup-ID nice N". False for anything else: in particular the
// empty file the kernel shows for a process in the default group (a
// process whose session has not called setsid since boot, as under many
// CI runners and container inits), which is no session's own and cannot
// be reniced.
func parseAutogroup(b []byte) (autogroup, bool) {
	rest, ok := bytes.CutPrefix(bytes.TrimSpace(b), []byte("/autogroup-"))
	if !ok {
		return autogroup{}, false
	}
	f := bytes.Fields(rest)
	if len(f) != 3 || string(f[1]) != "nice" {
		return autogroup{}, false
	}
	id, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil || id <= 0 {
		return autogroup{}, false
	}
	nice, err := strconv.Atoi(string(f[2]))
	if err != nil {
		return autogroup{}, false
	}
	return autogroup{id: id, nice: nice}, true
}

// readAutogroup reads the autogroup of process pid ("self" for this one);
// false if the process is gone, the kernel keeps no autogroups
// (CONFIG_SCHED_AUTOGROUP unset), or the process is in the default group.
func readAutogroup(pid string) (autogroup, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/autogroup")
	if err != nil {
		return autogroup{}, false
	}
	return parseAutogroup(b)
}

// procAutogroup is the id of the autogroup of pid's session; false as for
// readAutogroup. The kernel gives every session a new autogroup at setsid,
// its id the next of a counter that never goes back, and every process of
// the session shares it; so unlike the session id, which is the leader's
// pid and free again once the session has emptied, it names one session
// for the whole boot.
func procAutogroup(pid int) (int64, bool) {
	g, ok := readAutogroup(strconv.Itoa(pid))
	return g.id, ok
}

// ownAutogroupNice is the niceness of this process's autogroup; 0 where
// it has none of its own: in the default group its threads compete with
// other sessions' groups each at its own niceness, and a group at 0 weighs
// as one thread at 0.
func ownAutogroupNice() int {
	g, _ := readAutogroup("self")
	return g.nice
}
