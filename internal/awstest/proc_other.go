//go:build !linux

package awstest

import (
	"os"
	"syscall"
)

// sysProcAttr has no portable way to tie moto's life to the test
// binary's; outside Linux, Main's call to Stop is what ends it.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(p *os.Process) { p.Kill() }
