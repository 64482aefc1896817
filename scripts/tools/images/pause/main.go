// Command pause is a minimal stand-in for registry.k8s.io/pause: the process that holds a
// pod's namespaces open. It blocks until SIGINT or SIGTERM (then exits 0) and, as PID 1 of
// the pod, reaps every zombie child it inherits. Its arguments are ignored, so the same
// binary also serves as a do-nothing placeholder image (see scripts/tools/build-images.sh).
//
// Built statically (CGO_ENABLED=0); no dependencies outside the standard library.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range sigs {
		if sig == syscall.SIGCHLD {
			reap()
			continue
		}
		os.Exit(0)
	}
}

// reap collects every exited child; several SIGCHLDs may have been coalesced into one.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}
