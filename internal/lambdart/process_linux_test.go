package lambdart_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/lambdart"
)

// childEnv marks the test binary re-run by TestFunctionDiesWithProgram.
const childEnv = "LAMBDART_CHILD_PANICS"

// TestFunctionDiesWithProgram runs this test binary again, has it start
// the function and then panic, so that no Stop or cleanup runs, and
// checks that the function process, busy with an invocation, goes down
// with it anyway.
func TestFunctionDiesWithProgram(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		p, err := lambdart.Start(t.Context(), fnPath, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := invoke(t, p, `{}`)
		if err != nil {
			t.Fatal(err)
		}
		// Keep the function busy: an idle one would exit by itself as
		// soon as its Runtime API went away.
		go p.Invoke(context.Background(), []byte(`{"sleep":"60s"}`))
		time.Sleep(300 * time.Millisecond)
		fmt.Println("pid", r.PID)
		panic("dying without cleanup")
	}
	t.Parallel()

	cmd := exec.Command(os.Args[0], "-test.run=^TestFunctionDiesWithProgram$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := 0
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "pid "); ok {
			pid, _ = strconv.Atoi(s)
		}
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("child test binary did not fail")
	}
	if pid == 0 {
		t.Fatal("child test binary printed no function pid")
	}

	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("function process %d still running 10s after its parent died", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive reports whether pid is a process that has not exited; a zombie
// waiting to be reaped counts as dead.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}
