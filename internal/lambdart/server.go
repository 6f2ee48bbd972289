// Package lambdart plays the AWS Lambda service for one function on this
// machine: a Server speaks the Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) to a
// function's bootstrap binary, and a Process runs that binary against its
// own Server the way Lambda runs an execution environment: one invocation
// at a time, killed on timeout, started again after a crash.
//
// It exists so that integration tests and the local stack run the exact
// artifact that is deployed, with aws-lambda-go's real runtime loop, when
// the AWS emulator cannot run Lambda code. It is not Lambda: there is no
// freeze between invocations, no extensions API, no response streaming,
// no memory limit and no concurrency beyond what the caller starts, and it
// knows nothing about event sources (package pump plays the SQS one).
package lambdart

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The Runtime API version in every path.
const apiPrefix = "/2018-06-01/runtime"

// MaxResponseSize is Lambda's limit on a synchronous invocation's
// response. A function that posts more gets 413, and the invocation fails
// with a FunctionError of type Function.ResponseSizeTooLarge.
const MaxResponseSize = 6 << 20

// Errors Invoke returns; test for them with errors.Is.
var (
	// ErrTimeout means the function did not answer within its timeout.
	// A Process kills the function when that happens, as Lambda does.
	ErrTimeout = errors.New("task timed out")

	// ErrCrashed means the function's process exited while it held an
	// invocation (Lambda reports Runtime.ExitError).
	ErrCrashed = errors.New("runtime exited")

	// ErrClosed means the Server was closed, or the Process stopped,
	// before the invocation finished.
	ErrClosed = errors.New("runtime closed")
)

// FunctionError is an error the function reported itself, by posting to
// the invocation's /error endpoint (a returned error or a recovered panic,
// in aws-lambda-go) or to /init/error.
type FunctionError struct {
	// Type is the errorType the runtime sent: for aws-lambda-go, the Go
	// type name of the returned error, or of the panic value.
	Type    string
	Message string

	// Payload is the error document as the function posted it, which is
	// what Lambda's Invoke API returns to the caller.
	Payload []byte
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error %s: %s", e.Type, e.Message)
}

// Option configures a Server or a Process. Options that describe the
// function (name, region, account) apply to both; the rest only to Start.
type Option func(*config)

type config struct {
	name        string
	region      string
	account     string
	memoryMB    int
	timeout     time.Duration
	initTimeout time.Duration
}

func newConfig(opts []Option) config {
	c := config{
		name:        "function",
		region:      "us-east-1",
		account:     "123456789012",
		memoryMB:    128,
		timeout:     30 * time.Second,
		initTimeout: 10 * time.Second,
	}
	for _, opt := range opts {
		opt(&c)
	}
	return c
}

func (c config) arn() string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", c.region, c.account, c.name)
}

// WithFunctionName sets the function's name ("function" by default), as
// AWS_LAMBDA_FUNCTION_NAME and in the invoked function ARN.
func WithFunctionName(name string) Option { return func(c *config) { c.name = name } }

// WithRegion sets AWS_REGION and the ARN's region (us-east-1 by default).
func WithRegion(region string) Option { return func(c *config) { c.region = region } }

// WithAccountID sets the account in the invoked function ARN
// (123456789012, moto's default account, by default).
func WithAccountID(id string) Option { return func(c *config) { c.account = id } }

// WithMemorySize sets AWS_LAMBDA_FUNCTION_MEMORY_SIZE in megabytes (128
// by default). It is only reported, not enforced.
func WithMemorySize(mb int) Option { return func(c *config) { c.memoryMB = mb } }

// WithTimeout sets the function timeout (30s by default): how long an
// invocation may run before it fails with ErrTimeout and the process is
// killed.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithInitTimeout sets how long a starting process may take to ask for
// its first invocation (10s by default, Lambda's init limit).
func WithInitTimeout(d time.Duration) Option { return func(c *config) { c.initTimeout = d } }

// Server is the Runtime API for one function process. It listens on a
// free loopback port; Invoke queues an invocation that the runtime takes
// with its next GET .../invocation/next and answers with a POST.
type Server struct {
	cfg  config
	ln   net.Listener
	http *http.Server

	// queue hands an invocation to a waiting /next request. It is
	// unbuffered, so a successful send means the runtime has it.
	queue     chan *invocation
	closed    chan struct{}
	closeOnce sync.Once

	polled    chan struct{} // closed by the first /next
	pollOnce  sync.Once
	firstPoll time.Time // set before polled is closed

	initFailed chan struct{} // closed by the first /init/error
	initOnce   sync.Once
	initErr    *FunctionError // set before initFailed is closed

	mu      sync.Mutex
	running map[string]*invocation // taken by the runtime, not yet answered
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	trace    string
	done     chan result // buffered; the first answer wins
}

type result struct {
	body []byte
	err  error
}

func (inv *invocation) finish(r result) {
	select {
	case inv.done <- r:
	default: // answered twice; Lambda ignores the second too
	}
}

// NewServer starts a Runtime API server on 127.0.0.1 and a free port.
// WithFunctionName, WithRegion and WithAccountID shape the invoked
// function ARN it hands the runtime.
func NewServer(opts ...Option) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime api: listen: %w", err)
	}
	s := &Server{
		cfg:        newConfig(opts),
		ln:         ln,
		queue:      make(chan *invocation),
		closed:     make(chan struct{}),
		polled:     make(chan struct{}),
		initFailed: make(chan struct{}),
		running:    make(map[string]*invocation),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiPrefix+"/invocation/next", s.next)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/response", s.postResponse)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/error", s.postError)
	mux.HandleFunc("POST "+apiPrefix+"/init/error", s.postInitError)
	// No timeouts: /next is held open until there is work, as Lambda's is.
	s.http = &http.Server{Handler: mux}
	go s.http.Serve(ln)
	return s, nil
}

// Addr returns the server's host:port, the value for
// AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server. Invocations in progress fail with ErrClosed, and
// the runtime's open requests are cut off.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closed)
		err = s.http.Close()
	})
	return err
}

// Invoke sends payload to the runtime and waits for its answer: the
// response body, a *FunctionError if the function posted an error, an
// error wrapping ErrTimeout if no answer came within timeout of the call,
// ErrClosed if the server closed, or ctx's error. It does not kill
// anything on timeout; a Process does.
func (s *Server) Invoke(ctx context.Context, payload []byte, timeout time.Duration) ([]byte, error) {
	body, _, err := s.invoke(ctx, payload, timeout, nil, nil)
	return body, err
}

// invoke is Invoke that also gives up when exited is closed, saying why
// with exitStatus, and reports whether the runtime took the invocation.
func (s *Server) invoke(ctx context.Context, payload []byte, timeout time.Duration, exited <-chan struct{}, exitStatus func() string) (body []byte, taken bool, err error) {
	start := time.Now()
	inv := &invocation{
		id:       newRequestID(),
		payload:  payload,
		deadline: start.Add(timeout),
		done:     make(chan result, 1),
	}
	inv.trace = traceID(start, inv.id)
	timer := time.NewTimer(timeout)
	defer timer.Stop()

	select {
	case s.queue <- inv:
	case <-s.initFailed:
		return nil, false, fmt.Errorf("invoke %s: init: %w", inv.id, s.initErr)
	case <-timer.C:
		return nil, false, fmt.Errorf("invoke %s: %w after %v waiting for the runtime", inv.id, ErrTimeout, timeout)
	case <-exited:
		return nil, false, fmt.Errorf("invoke %s: %w before taking the invocation: %s", inv.id, ErrCrashed, exitStatus())
	case <-s.closed:
		return nil, false, fmt.Errorf("invoke %s: %w", inv.id, ErrClosed)
	case <-ctx.Done():
		return nil, false, fmt.Errorf("invoke %s: %w", inv.id, context.Cause(ctx))
	}

	select {
	case r := <-inv.done:
		if r.err != nil {
			return nil, true, r.err
		}
		return r.body, true, nil
	case <-timer.C:
		err = fmt.Errorf("invoke %s: %w after %v", inv.id, ErrTimeout, timeout)
	case <-exited:
		err = fmt.Errorf("invoke %s: %w: %s", inv.id, ErrCrashed, exitStatus())
	case <-s.closed:
		err = fmt.Errorf("invoke %s: %w", inv.id, ErrClosed)
	case <-ctx.Done():
		err = fmt.Errorf("invoke %s: %w", inv.id, context.Cause(ctx))
	}
	// A late answer still finds the invocation and is accepted, then
	// dropped, so that the runtime does not take a 4xx as fatal.
	return nil, true, err
}

// firstPollTime returns when the runtime first asked for an invocation,
// that is, finished initialising, or the zero time if it has not.
func (s *Server) firstPollTime() time.Time {
	select {
	case <-s.polled:
		return s.firstPoll
	default:
		return time.Time{}
	}
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.pollOnce.Do(func() {
		s.firstPoll = time.Now()
		close(s.polled)
	})
	var inv *invocation
	select {
	case inv = <-s.queue:
	case <-r.Context().Done():
		return
	case <-s.closed:
		return
	}
	s.mu.Lock()
	s.running[inv.id] = inv
	s.mu.Unlock()

	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", s.cfg.arn())
	h.Set("Lambda-Runtime-Trace-Id", inv.trace)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(inv.payload)))
	w.WriteHeader(http.StatusOK)
	w.Write(inv.payload)
}

// take removes and returns the invocation the runtime is answering.
func (s *Server) take(w http.ResponseWriter, r *http.Request) *invocation {
	id := r.PathValue("id")
	s.mu.Lock()
	inv := s.running[id]
	delete(s.running, id)
	s.mu.Unlock()
	if inv == nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", fmt.Sprintf("unknown request id %q", id))
	}
	return inv
}

func (s *Server) postResponse(w http.ResponseWriter, r *http.Request) {
	inv := s.take(w, r)
	if inv == nil {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseSize+1))
	if err != nil {
		inv.finish(result{err: fmt.Errorf("invoke %s: read response: %w", inv.id, err)})
		writeAPIError(w, http.StatusBadRequest, "InvalidResponse", err.Error())
		return
	}
	if len(body) > MaxResponseSize {
		io.Copy(io.Discard, r.Body)
		msg := fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxResponseSize)
		inv.finish(result{err: &FunctionError{Type: "Function.ResponseSizeTooLarge", Message: msg}})
		writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", msg)
		return
	}
	// aws-lambda-go reports a failure while it streams the body (a
	// handler's io.Reader that errors) in trailers, after the body.
	if typ := r.Trailer.Get("Lambda-Runtime-Function-Error-Type"); typ != "" {
		fe := &FunctionError{Type: typ}
		if b, err := base64.StdEncoding.DecodeString(r.Trailer.Get("Lambda-Runtime-Function-Error-Body")); err == nil {
			fe = decodeFunctionError(b, typ)
		}
		inv.finish(result{err: fe})
	} else {
		inv.finish(result{body: body})
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) postError(w http.ResponseWriter, r *http.Request) {
	inv := s.take(w, r)
	if inv == nil {
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxResponseSize))
	inv.finish(result{err: decodeFunctionError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))})
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) postInitError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxResponseSize))
	fe := decodeFunctionError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))
	s.initOnce.Do(func() {
		s.initErr = fe
		close(s.initFailed)
	})
	w.WriteHeader(http.StatusAccepted)
}

// decodeFunctionError reads the runtime's error document. The type
// header, or failing that "Unknown", stands in for a missing errorType.
func decodeFunctionError(body []byte, headerType string) *FunctionError {
	var doc struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		doc.Message = string(bytes.TrimSpace(body))
	}
	fe := &FunctionError{Type: doc.Type, Message: doc.Message, Payload: body}
	if fe.Type == "" {
		fe.Type = headerType
	}
	if fe.Type == "" {
		fe.Type = "Unknown"
	}
	return fe
}

func writeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// newRequestID returns a random version 4 UUID. Request ids are random,
// as Lambda's are, because functions may use them to tell invocations
// apart across restarts.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// traceID returns an X-Ray trace header in Lambda's format, derived from
// the request id so that it needs no randomness of its own.
func traceID(t time.Time, requestID string) string {
	hexID := requestID[0:8] + requestID[9:13] + requestID[14:18] + requestID[19:23] + requestID[24:36]
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", t.Unix(), hexID[:24], hexID[16:32])
}
