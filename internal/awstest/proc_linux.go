package awstest

import (
	"os"
	"syscall"
)

// sysProcAttr puts moto in its own process group, so stop can kill it
// with anything it spawned, and has the kernel kill it if the test binary
// dies without running cleanups (a panic, or go test's -timeout).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(p *os.Process) {
	syscall.Kill(-p.Pid, syscall.SIGKILL)
	p.Kill()
}
