package lambdart_test

import (
	"errors"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/lambdart"
)

func TestProcessKill(t *testing.T) {
	t.Parallel()
	t.Run("mid-invocation is a crash", func(t *testing.T) {
		t.Parallel()
		p, _ := start(t, nil)
		before, err := invoke(t, p, `{}`)
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() {
			_, err := p.Invoke(t.Context(), []byte(`{"sleep":"20s"}`))
			errc <- err
		}()
		time.Sleep(200 * time.Millisecond) // let the runtime take it
		begin := time.Now()
		if err := p.Kill(); err != nil {
			t.Fatalf("Kill: %v", err)
		}
		select {
		case err := <-errc:
			if !errors.Is(err, lambdart.ErrCrashed) {
				t.Errorf("Invoke error %v, want %v", err, lambdart.ErrCrashed)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the killed invocation did not end")
		}
		if took := time.Since(begin); took > 2*time.Second {
			t.Errorf("the killed invocation ended after %v", took)
		}
		after, err := invoke(t, p, `{"echo":"again"}`)
		if err != nil {
			t.Fatalf("Invoke after Kill: %v", err)
		}
		if after.PID == before.PID || p.Starts() != 2 {
			t.Errorf("ran in pid %d after %d starts, want a new process (was %d) and 2 starts", after.PID, p.Starts(), before.PID)
		}
	})
	t.Run("between invocations means a cold start", func(t *testing.T) {
		t.Parallel()
		p, _ := start(t, nil)
		before, err := invoke(t, p, `{}`)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Kill(); err != nil {
			t.Fatalf("Kill: %v", err)
		}
		if err := p.Kill(); err != nil {
			t.Fatalf("Kill of a dead process: %v", err)
		}
		after, err := invoke(t, p, `{}`)
		if err != nil {
			t.Fatalf("Invoke after Kill: %v", err)
		}
		if after.PID == before.PID || p.Starts() != 2 {
			t.Errorf("ran in pid %d after %d starts, want a new process (was %d) and 2 starts", after.PID, p.Starts(), before.PID)
		}
	})
	t.Run("after Stop fails", func(t *testing.T) {
		t.Parallel()
		p, _ := start(t, nil)
		p.Stop()
		if err := p.Kill(); !errors.Is(err, lambdart.ErrClosed) {
			t.Errorf("Kill after Stop: %v, want %v", err, lambdart.ErrClosed)
		}
	})
}
