//go:build !linux

package lambdart

import (
	"os"
	"syscall"
)

// sysProcAttr has no portable way to tie the function's life to this
// program's; outside Linux, Stop is what ends it.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(p *os.Process) { p.Kill() }
