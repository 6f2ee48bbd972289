package lambdart

import "fmt"

// Kill ends the function's process with SIGKILL, as a crash or Lambda's
// out-of-memory killer would, and returns once it has exited: nothing it
// was doing gets further. An Invoke in progress fails with ErrCrashed, and
// the next Invoke starts a new process (a cold start). Killing a Process
// whose process is already gone does nothing; killing a stopped one fails
// with ErrClosed.
//
// It is for tests of what a function leaves behind when it dies midway.
func (p *Process) Kill() error {
	p.mu.Lock()
	stopped, inst := p.stopped, p.cur
	p.mu.Unlock()
	if stopped {
		return fmt.Errorf("kill: %w", ErrClosed)
	}
	if inst == nil {
		return nil
	}
	select {
	case <-inst.exited:
	default:
		killGroup(inst.cmd.Process)
		<-inst.exited
	}
	return nil
}
