package lambdart_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/lambdart"
)

// fnPath is the test function, built by TestMain.
var fnPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdart-test-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fnPath = filepath.Join(dir, "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", fnPath, "./testdata/fn")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build test function: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// reply is what the test function answers.
type reply struct {
	Echo         string `json:"echo"`
	PID          int    `json:"pid"`
	RequestID    string `json:"requestId"`
	FunctionARN  string `json:"functionArn"`
	FunctionName string `json:"functionName"`
	MemoryMB     int    `json:"memoryMB"`
	Region       string `json:"region"`
	Handler      string `json:"handler"`
	Custom       string `json:"custom"`
	HasDeadline  bool   `json:"hasDeadline"`
}

// syncBuffer collects the function's logs from its output copier.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, env []string, opts ...lambdart.Option) (*lambdart.Process, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	p, err := lambdart.Start(t.Context(), fnPath, env, logs, opts...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("function logs:\n%s", logs)
		}
	})
	return p, logs
}

func invoke(t *testing.T, p *lambdart.Process, payload string) (reply, error) {
	t.Helper()
	body, err := p.Invoke(t.Context(), []byte(payload))
	if err != nil {
		return reply{}, err
	}
	var r reply
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("response %q: %v", body, err)
	}
	return r, nil
}

func TestProcessResponse(t *testing.T) {
	t.Parallel()
	p, _ := start(t, []string{"CUSTOM=yes", "AWS_REGION=ignored"},
		lambdart.WithFunctionName("render"),
		lambdart.WithRegion("eu-central-1"),
		lambdart.WithMemorySize(256))

	got, err := invoke(t, p, `{"echo":"hello"}`)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	want := reply{
		Echo:         "hello",
		PID:          got.PID,
		RequestID:    got.RequestID,
		FunctionARN:  "arn:aws:lambda:eu-central-1:123456789012:function:render",
		FunctionName: "render",
		MemoryMB:     256,
		Region:       "eu-central-1",
		Handler:      "bootstrap",
		Custom:       "yes",
		HasDeadline:  true,
	}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if len(got.RequestID) != 36 {
		t.Errorf("request id %q is not a UUID", got.RequestID)
	}
	if p.ColdStart() <= 0 {
		t.Errorf("ColdStart() = %v, want > 0", p.ColdStart())
	}

	again, err := invoke(t, p, `{"echo":"again"}`)
	if err != nil {
		t.Fatalf("second Invoke: %v", err)
	}
	if again.PID != got.PID || p.Starts() != 1 {
		t.Errorf("second invocation ran in pid %d after %d starts, want pid %d and 1 start", again.PID, p.Starts(), got.PID)
	}
	if again.RequestID == got.RequestID {
		t.Errorf("two invocations share request id %q", got.RequestID)
	}
}

// TestProcessFailures checks each way an invocation can fail, and that
// the next invocation works, in the same process or a new one as Lambda
// would.
func TestProcessFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		payload  string
		wantErr  error  // errors.Is target, or nil for a *FunctionError
		wantType string // FunctionError.Type
		wantMsg  string // FunctionError.Message
		restarts bool   // the next invocation runs in a new process
	}{
		{name: "returned error is a function error", payload: `{"error":"no such post"}`,
			wantType: "errorString", wantMsg: "no such post"},
		{name: "panic is a function error and the runtime restarts", payload: `{"panic":"nil map"}`,
			wantType: "string", wantMsg: "nil map", restarts: true},
		{name: "timeout kills the process", payload: `{"sleep":"5s"}`,
			wantErr: lambdart.ErrTimeout, restarts: true},
		{name: "exit mid-invocation is a crash", payload: `{"exit":3}`,
			wantErr: lambdart.ErrCrashed, restarts: true},
		{name: "oversized response is a function error", payload: fmt.Sprintf(`{"size":%d}`, lambdart.MaxResponseSize+1),
			wantType: "Function.ResponseSizeTooLarge", restarts: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, _ := start(t, nil, lambdart.WithTimeout(time.Second))
			before, err := invoke(t, p, `{}`)
			if err != nil {
				t.Fatalf("first Invoke: %v", err)
			}

			_, err = p.Invoke(t.Context(), []byte(tt.payload))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Invoke error %v, want %v", err, tt.wantErr)
				}
			} else {
				var fe *lambdart.FunctionError
				if !errors.As(err, &fe) {
					t.Fatalf("Invoke error %v, want a *FunctionError", err)
				}
				if fe.Type != tt.wantType || (tt.wantMsg != "" && fe.Message != tt.wantMsg) {
					t.Errorf("FunctionError %q %q, want %q %q", fe.Type, fe.Message, tt.wantType, tt.wantMsg)
				}
			}

			after, err := invoke(t, p, `{"echo":"still here"}`)
			if err != nil {
				t.Fatalf("Invoke after the failure: %v", err)
			}
			if after.Echo != "still here" {
				t.Errorf("echo %q after the failure", after.Echo)
			}
			if restarted := after.PID != before.PID; restarted != tt.restarts {
				t.Errorf("restarted = %v (pid %d then %d), want %v", restarted, before.PID, after.PID, tt.restarts)
			}
			wantStarts := 1
			if tt.restarts {
				wantStarts = 2
			}
			if p.Starts() != wantStarts {
				t.Errorf("Starts() = %d, want %d", p.Starts(), wantStarts)
			}
			if p.ColdStart() <= 0 {
				t.Errorf("ColdStart() = %v after restart, want > 0", p.ColdStart())
			}
		})
	}
}

func TestProcessSerializesInvocations(t *testing.T) {
	t.Parallel()
	p, _ := start(t, nil)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	begin := time.Now()
	for i := range n {
		wg.Go(func() {
			var r reply
			r, errs[i] = invoke(t, p, fmt.Sprintf(`{"echo":"%d","sleep":"100ms"}`, i))
			if errs[i] == nil && r.Echo != fmt.Sprint(i) {
				errs[i] = fmt.Errorf("echo %q, want %d", r.Echo, i)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("invocation %d: %v", i, err)
		}
	}
	if took := time.Since(begin); took < n*100*time.Millisecond {
		t.Errorf("%d invocations of 100ms took %v: they overlapped", n, took)
	}
}

func TestProcessStop(t *testing.T) {
	t.Parallel()
	p, _ := start(t, nil)
	done := make(chan error, 1)
	go func() {
		_, err := p.Invoke(context.Background(), []byte(`{"sleep":"10s"}`))
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, lambdart.ErrClosed) {
			t.Errorf("Invoke during Stop: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Invoke still running 5s after Stop")
	}
	if _, err := p.Invoke(t.Context(), []byte(`{}`)); !errors.Is(err, lambdart.ErrClosed) {
		t.Errorf("Invoke after Stop: %v, want ErrClosed", err)
	}
}

func TestProcessCancelAbandonsInvocation(t *testing.T) {
	t.Parallel()
	p, _ := start(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := p.Invoke(ctx, []byte(`{"sleep":"10s"}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Invoke with a short context: %v, want context.DeadlineExceeded", err)
	}
	if _, err := invoke(t, p, `{}`); err != nil {
		t.Errorf("Invoke after an abandoned one: %v", err)
	}
	if p.Starts() != 2 {
		t.Errorf("Starts() = %d, want 2: the busy process should have been replaced", p.Starts())
	}
}

func TestStartFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		path    string
		env     []string
		opts    []lambdart.Option
		wantErr error
	}{
		{name: "exit during init is a crash", env: []string{"FAIL_INIT=1"}, wantErr: lambdart.ErrCrashed},
		{name: "no poll within the init timeout", path: "sleeper", opts: []lambdart.Option{lambdart.WithInitTimeout(200 * time.Millisecond)}, wantErr: lambdart.ErrTimeout},
		{name: "missing binary", path: "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := fnPath
			switch tt.path {
			case "sleeper":
				path = filepath.Join(t.TempDir(), "bootstrap")
				if err := os.WriteFile(path, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			case "missing":
				path = filepath.Join(t.TempDir(), "bootstrap")
			}
			logs := &syncBuffer{}
			p, err := lambdart.Start(t.Context(), path, tt.env, logs, tt.opts...)
			if err == nil {
				p.Stop()
				t.Fatal("Start succeeded")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Start: %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("Start error %q does not name the binary", err)
			}
		})
	}
}
