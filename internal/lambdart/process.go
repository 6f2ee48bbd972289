package lambdart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// lambdaPath is PATH in Lambda's provided.al2023 runtime.
const lambdaPath = "/usr/local/bin:/usr/bin/:/bin:/opt/bin"

// Process is one function's bootstrap binary run against its own Server,
// like one Lambda execution environment: it handles one invocation at a
// time, and after a timeout or a crash the next Invoke starts a fresh
// process first (a cold start). It is safe for concurrent use; concurrent
// Invokes wait their turn, as they would for a function with a reserved
// concurrency of one.
type Process struct {
	path string
	env  []string
	logs io.Writer
	opts []Option
	cfg  config

	invokeMu sync.Mutex // held for a whole Invoke

	mu        sync.Mutex
	cur       *instance // nil once killed, until the next Invoke starts one
	stopped   bool
	starts    int
	coldStart time.Duration
}

// instance is one run of the binary with its Server.
type instance struct {
	srv    *Server
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has been reaped
}

// Start runs the bootstrap binary at path as a Lambda function and waits
// until it asks for its first invocation. The process sees only env plus
// the variables Lambda sets (AWS_LAMBDA_RUNTIME_API, AWS_REGION,
// AWS_LAMBDA_FUNCTION_NAME, _HANDLER and the like, which env cannot
// override), not this process's environment, so credentials and endpoints
// must be passed in env. Its stdout and stderr go to logs, which may be nil.
//
// ctx bounds the start only. The process runs until Stop; on Linux it is
// also killed if the calling program dies.
func Start(ctx context.Context, path string, env []string, logs io.Writer, opts ...Option) (*Process, error) {
	if logs == nil {
		logs = io.Discard
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	p := &Process{path: abs, env: env, logs: logs, opts: opts, cfg: newConfig(opts)}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.startLocked(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Invoke runs one invocation and returns the function's response. It
// fails with a *FunctionError when the function reports an error (a
// returned error or a panic), with ErrTimeout when it runs past the
// timeout, and with ErrCrashed when the process exits mid-invocation. In
// the last two cases the process is gone and the next Invoke starts a new
// one. If ctx ends after the function took the invocation, the process is
// killed too: it is busy with work nobody is waiting for.
//
// A process that exited between invocations (aws-lambda-go exits after a
// panic, once it has reported it) is started again before the invocation
// is handed over, as Lambda does.
func (p *Process) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	p.invokeMu.Lock()
	defer p.invokeMu.Unlock()
	for retried := false; ; retried = true {
		inst, err := p.ready(ctx)
		if err != nil {
			return nil, err
		}
		body, taken, err := inst.srv.invoke(ctx, payload, p.cfg.timeout, inst.exited, inst.exitStatus)
		if err == nil {
			return body, nil
		}
		var fe *FunctionError
		switch {
		case errors.Is(err, ErrCrashed) && !taken && !retried:
			// It died between invocations; this one never started.
			p.discard(inst)
			continue
		case errors.As(err, &fe) && taken:
			// The function reported the error and goes on running.
		case taken, errors.Is(err, ErrTimeout), errors.As(err, &fe):
			// Timed out, crashed, abandoned, or failed to initialise:
			// Lambda would throw this sandbox away.
			p.discard(inst)
		}
		if p.isStopped() && !errors.Is(err, ErrClosed) {
			return nil, fmt.Errorf("%w: %w", ErrClosed, err)
		}
		return nil, err
	}
}

// ColdStart returns how long the current process (or the last one, if it
// has been killed) took from exec to its first request for an invocation:
// Lambda's Init duration.
func (p *Process) ColdStart() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.coldStart
}

// Starts returns how many times the binary has been started, the first
// start included.
func (p *Process) Starts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

// Stop kills the process and closes its server. An Invoke in progress
// fails with ErrClosed, and so does every later one.
func (p *Process) Stop() error {
	p.mu.Lock()
	p.stopped = true
	inst := p.cur
	p.cur = nil
	p.mu.Unlock()
	if inst != nil {
		inst.kill()
	}
	return nil
}

func (p *Process) isStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

// ready returns the running instance, starting one if there is none or
// the last one has exited.
func (p *Process) ready(ctx context.Context) (*instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil, fmt.Errorf("invoke: %w", ErrClosed)
	}
	if p.cur != nil {
		select {
		case <-p.cur.exited:
			p.cur.kill() // reap the server too
			p.cur = nil
		default:
			return p.cur, nil
		}
	}
	if err := p.startLocked(ctx); err != nil {
		return nil, err
	}
	return p.cur, nil
}

// discard kills inst if it is still the current instance.
func (p *Process) discard(inst *instance) {
	p.mu.Lock()
	if p.cur == inst {
		p.cur = nil
	}
	p.mu.Unlock()
	inst.kill()
}

// startLocked starts a new instance and waits for its first poll. p.mu
// must be held.
func (p *Process) startLocked(ctx context.Context) error {
	srv, err := NewServer(p.opts...)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.path, err)
	}
	p.starts++
	cmd := exec.Command(p.path)
	cmd.Dir = filepath.Dir(p.path)
	cmd.Env = p.environ(srv.Addr())
	cmd.Stdout = p.logs
	cmd.Stderr = p.logs
	cmd.SysProcAttr = sysProcAttr()
	// A grandchild holding the output pipes must not keep Wait, and so
	// kill, waiting for ever.
	cmd.WaitDelay = time.Second

	inst := &instance{srv: srv, cmd: cmd, exited: make(chan struct{})}
	launched := make(chan error, 1)
	begin := time.Now()
	go func() {
		// On Linux the child gets SIGKILL when the thread that started
		// it exits (Pdeathsig is per thread), so that thread must live
		// as long as the child: lock this goroutine to it and keep it
		// waiting. The thread ends with the goroutine, after the child.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			launched <- err
			return
		}
		launched <- nil
		cmd.Wait()
		close(inst.exited)
	}()
	if err := <-launched; err != nil {
		srv.Close()
		return fmt.Errorf("start %s: %w", p.path, err)
	}

	timer := time.NewTimer(p.cfg.initTimeout)
	defer timer.Stop()
	select {
	case <-srv.polled:
		p.cur = inst
		p.coldStart = srv.firstPollTime().Sub(begin)
		return nil
	case <-srv.initFailed:
		inst.kill()
		return fmt.Errorf("start %s: init: %w", p.path, srv.initErr)
	case <-inst.exited:
		inst.kill()
		return fmt.Errorf("start %s: %w during init: %s", p.path, ErrCrashed, inst.exitStatus())
	case <-timer.C:
		inst.kill()
		return fmt.Errorf("start %s: %w: no request for an invocation within %v", p.path, ErrTimeout, p.cfg.initTimeout)
	case <-ctx.Done():
		inst.kill()
		return fmt.Errorf("start %s: %w", p.path, context.Cause(ctx))
	}
}

// environ is the process's whole environment: Lambda's defaults, then the
// caller's variables, then the ones Lambda reserves.
func (p *Process) environ(addr string) []string {
	env := []string{
		"PATH=" + lambdaPath,
		"LANG=en_US.UTF-8",
		"TZ=:UTC",
	}
	env = append(env, p.env...)
	c := p.cfg
	dir := filepath.Dir(p.path)
	return append(env,
		"AWS_LAMBDA_RUNTIME_API="+addr,
		"AWS_LAMBDA_FUNCTION_NAME="+c.name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(c.memoryMB),
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/"+c.name,
		"AWS_LAMBDA_LOG_STREAM_NAME=local/[$LATEST]"+strconv.Itoa(p.starts),
		"AWS_REGION="+c.region,
		"AWS_DEFAULT_REGION="+c.region,
		"_HANDLER="+filepath.Base(p.path),
		"LAMBDA_TASK_ROOT="+dir,
		"LAMBDA_RUNTIME_DIR="+dir,
	)
}

// kill ends the process group and the server, and waits for the process
// to be reaped. Killing an exited instance only closes its server.
func (inst *instance) kill() {
	select {
	case <-inst.exited:
	default:
		killGroup(inst.cmd.Process)
		<-inst.exited
	}
	inst.srv.Close()
}

// exitStatus describes how the process ended; call it only once exited
// is closed.
func (inst *instance) exitStatus() string {
	if st := inst.cmd.ProcessState; st != nil {
		return st.String()
	}
	return "not reaped"
}
