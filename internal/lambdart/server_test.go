package lambdart_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/lambdart"
)

const api = "/2018-06-01/runtime"

func newServer(t *testing.T, opts ...lambdart.Option) *lambdart.Server {
	t.Helper()
	s, err := lambdart.NewServer(opts...)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type outcome struct {
	body []byte
	err  error
}

// invokeAsync starts an invocation and returns where its outcome arrives.
func invokeAsync(s *lambdart.Server, payload string, timeout time.Duration) <-chan outcome {
	c := make(chan outcome, 1)
	go func() {
		body, err := s.Invoke(context.Background(), []byte(payload), timeout)
		c <- outcome{body, err}
	}()
	return c
}

// next plays the runtime's GET .../invocation/next.
func next(t *testing.T, s *lambdart.Server) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr() + api + "/invocation/next")
	if err != nil {
		t.Fatalf("next: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func post(t *testing.T, s *lambdart.Server, path, body string, header http.Header) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.Addr()+api+path, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func wait(t *testing.T, c <-chan outcome) outcome {
	t.Helper()
	select {
	case o := <-c:
		return o
	case <-time.After(5 * time.Second):
		t.Fatal("Invoke did not return")
		return outcome{}
	}
}

func TestServerNextHeaders(t *testing.T) {
	t.Parallel()
	s := newServer(t, lambdart.WithFunctionName("render"), lambdart.WithAccountID("000000000000"))
	begin := time.Now()
	done := invokeAsync(s, `{"a":1}`, 3*time.Second)
	resp, body := next(t, s)

	if resp.StatusCode != http.StatusOK || body != `{"a":1}` {
		t.Errorf("next: %d %q, want 200 with the payload", resp.StatusCode, body)
	}
	id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
	if len(id) != 36 {
		t.Errorf("request id %q", id)
	}
	if got, want := resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn"), "arn:aws:lambda:us-east-1:000000000000:function:render"; got != want {
		t.Errorf("function ARN %q, want %q", got, want)
	}
	if tr := resp.Header.Get("Lambda-Runtime-Trace-Id"); !strings.HasPrefix(tr, "Root=1-") {
		t.Errorf("trace id %q", tr)
	}
	ms, err := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
	if err != nil {
		t.Fatalf("deadline: %v", err)
	}
	if d := time.UnixMilli(ms).Sub(begin); d < 2*time.Second || d > 4*time.Second {
		t.Errorf("deadline %v after the call, want about 3s", d)
	}

	if code := post(t, s, "/invocation/"+id+"/response", `"ok"`, nil); code != http.StatusAccepted {
		t.Errorf("POST response: %d, want 202", code)
	}
	if o := wait(t, done); o.err != nil || string(o.body) != `"ok"` {
		t.Errorf("Invoke: %q, %v", o.body, o.err)
	}
}

func TestServerAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		path     string // after /invocation/{id}
		body     string
		header   http.Header
		wantCode int
		wantBody string
		wantType string // FunctionError.Type; "" for success
		wantMsg  string
	}{
		{name: "response", path: "/response", body: `{"batchItemFailures":[]}`,
			wantCode: 202, wantBody: `{"batchItemFailures":[]}`},
		{name: "empty response", path: "/response", wantCode: 202, wantBody: ""},
		{name: "error document", path: "/error",
			body:     `{"errorMessage":"boom","errorType":"errorString","stackTrace":[]}`,
			wantCode: 202, wantType: "errorString", wantMsg: "boom"},
		{name: "error type from the header", path: "/error", body: `not json`,
			header:   http.Header{"Lambda-Runtime-Function-Error-Type": {"Runtime.Custom"}},
			wantCode: 202, wantType: "Runtime.Custom", wantMsg: "not json"},
		{name: "error with no type", path: "/error", body: `{"errorMessage":"x"}`,
			wantCode: 202, wantType: "Unknown", wantMsg: "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t)
			done := invokeAsync(s, `{}`, 5*time.Second)
			resp, _ := next(t, s)
			id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
			if code := post(t, s, "/invocation/"+id+tt.path, tt.body, tt.header); code != tt.wantCode {
				t.Errorf("POST: %d, want %d", code, tt.wantCode)
			}
			o := wait(t, done)
			if tt.wantType == "" {
				if o.err != nil || string(o.body) != tt.wantBody {
					t.Errorf("Invoke: %q, %v; want %q", o.body, o.err, tt.wantBody)
				}
				return
			}
			var fe *lambdart.FunctionError
			if !errors.As(o.err, &fe) {
				t.Fatalf("Invoke error %v, want a *FunctionError", o.err)
			}
			if fe.Type != tt.wantType || fe.Message != tt.wantMsg || string(fe.Payload) != tt.body {
				t.Errorf("FunctionError %q %q %q, want %q %q %q", fe.Type, fe.Message, fe.Payload, tt.wantType, tt.wantMsg, tt.body)
			}
		})
	}
}

func TestServerUnknownRequestID(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	if code := post(t, s, "/invocation/nope/response", `{}`, nil); code != http.StatusBadRequest {
		t.Errorf("response for an unknown id: %d, want 400", code)
	}
}

func TestServerLateAnswerIsAccepted(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	done := invokeAsync(s, `{}`, 100*time.Millisecond)
	resp, _ := next(t, s)
	if o := wait(t, done); !errors.Is(o.err, lambdart.ErrTimeout) {
		t.Fatalf("Invoke: %v, want ErrTimeout", o.err)
	}
	id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
	if code := post(t, s, "/invocation/"+id+"/response", `{}`, nil); code != http.StatusAccepted {
		t.Errorf("late response: %d, want 202 so the runtime carries on", code)
	}
}

func TestServerTimeoutWithoutRuntime(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	if _, err := s.Invoke(t.Context(), []byte(`{}`), 50*time.Millisecond); !errors.Is(err, lambdart.ErrTimeout) {
		t.Errorf("Invoke with nobody polling: %v, want ErrTimeout", err)
	}
}

func TestServerInitError(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	if code := post(t, s, "/init/error", `{"errorMessage":"no bucket","errorType":"InitError"}`, nil); code != http.StatusAccepted {
		t.Errorf("POST init/error: %d, want 202", code)
	}
	_, err := s.Invoke(t.Context(), []byte(`{}`), time.Second)
	var fe *lambdart.FunctionError
	if !errors.As(err, &fe) || fe.Type != "InitError" || fe.Message != "no bucket" {
		t.Errorf("Invoke after an init error: %v, want FunctionError InitError", err)
	}
}

func TestServerClose(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	done := invokeAsync(s, `{}`, 5*time.Second)
	s.Close()
	if o := wait(t, done); !errors.Is(o.err, lambdart.ErrClosed) {
		t.Errorf("Invoke on a closed server: %v, want ErrClosed", o.err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
