//go:build linux

package loadgen

import (
	"runtime"
	"syscall"
	"time"
)

// prSetTimerslack and prGetTimerslack are prctl(2) options.
const (
	prSetTimerslack = 29
	prGetTimerslack = 30
)

// preciseSleep sleeps on the calling thread with nanosleep(2). The Go
// runtime's own timers wake up at millisecond granularity when the process
// is otherwise idle (its netpoller rounds sub-millisecond waits up to 1
// ms), which would send requests in bursts and charge the server with up
// to a millisecond of the scheduler's lateness; nanosleep is precise to
// tens of microseconds.
func preciseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for {
		err := syscall.Nanosleep(&ts, &ts)
		if err != syscall.EINTR { //nolint:errorlint // a raw errno
			return
		}
	}
}

// pinForPacing locks the goroutine to its thread and lowers the thread's
// timer slack (50 µs by default) to 1 ns, so that preciseSleep wakes up on
// time; the returned function undoes both.
func pinForPacing() (unpin func()) {
	runtime.LockOSThread()
	old, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prGetTimerslack, 0, 0)
	if errno != 0 {
		return runtime.UnlockOSThread
	}
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerslack, 1, 0)
	return func() {
		_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerslack, old, 0)
		runtime.UnlockOSThread()
	}
}
