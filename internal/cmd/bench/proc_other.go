//go:build !linux

package main

import (
	"os"
	"syscall"
	"time"
)

// sysProcAttr has no portable way to tie moto's life to the bench's.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(p *os.Process) { p.Kill() }

// cpuTime is not measured outside Linux: CPU columns read 0.
func cpuTime() time.Duration { return 0 }
