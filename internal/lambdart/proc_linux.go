package lambdart

import (
	"os"
	"syscall"
)

// sysProcAttr puts the function in its own process group, so a kill takes
// anything it spawned too, and has the kernel kill it if the thread that
// started it (kept alive until it exits) dies with the program.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(p *os.Process) {
	syscall.Kill(-p.Pid, syscall.SIGKILL)
	p.Kill()
}
