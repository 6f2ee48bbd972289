// Package faultproxy is test support, like net/http/httptest: an HTTP
// reverse proxy in front of an AWS emulator that makes a share of the
// requests through it fail the ways AWS fails. Point a client (or a
// function's AWS_ENDPOINT_URL) at URL instead of the emulator.
//
// A seeded random draw picks which requests fail, and how: an HTTP 500
// InternalError, a throttling answer (S3's 503 SlowDown, SQS's
// ThrottlingException, CloudFront's Throttling), a connection reset before
// the request is forwarded, a reset after it was forwarded and answered
// (the write happened, the client sees only an error), or added latency.
// Error bodies are each service's own wire format, so SDK clients classify
// and retry them as they would AWS's. Rules then see each request with
// the fault drawn for it and may force, change or drop one: an object key
// that always fails, a hook on the Nth write, requests to spare.
//
// It speaks plain HTTP/1.1 to clients and understands S3 only in path
// style, as SDK clients configured for an emulator use it. It is not a
// TCP-level fault injector (no partial writes, no bandwidth limits), and
// it is not for production traffic.
package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// Service is the AWS service a request is for.
type Service int

// The services the proxy tells apart.
const (
	S3 Service = iota
	SQS
	CloudFront
	numServices
)

func (s Service) String() string {
	switch s {
	case S3:
		return "S3"
	case SQS:
		return "SQS"
	case CloudFront:
		return "CloudFront"
	}
	return fmt.Sprintf("Service(%d)", int(s))
}

// Fault is what the proxy does to one request.
type Fault int

const (
	// None forwards the request untouched.
	None Fault = iota

	// InternalError answers HTTP 500 with the service's InternalError
	// (InternalFailure for SQS) without forwarding.
	InternalError

	// Throttle answers the service's throttling error without
	// forwarding: 503 SlowDown for S3, 400 ThrottlingException for SQS,
	// 400 Throttling for CloudFront.
	Throttle

	// ResetBefore resets the client's connection without forwarding the
	// request.
	ResetBefore

	// ResetAfter forwards the request, reads the emulator's whole answer,
	// then resets the client's connection: the request took effect, the
	// client sees a connection error and no response.
	ResetAfter

	// Latency forwards the request after a delay drawn from the latency
	// range.
	Latency
)

// Faults is every fault the random draw can pick, the default set. Do
// not modify it; pass a set of your own to WithFaults.
var Faults = []Fault{InternalError, Throttle, ResetBefore, ResetAfter, Latency}

func (f Fault) String() string {
	switch f {
	case None:
		return "None"
	case InternalError:
		return "InternalError"
	case Throttle:
		return "Throttle"
	case ResetBefore:
		return "ResetBefore"
	case ResetAfter:
		return "ResetAfter"
	case Latency:
		return "Latency"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Request is what rules see of a request.
type Request struct {
	Service Service
	Method  string
	// Path is the URL path, decoded.
	Path string
	// Bucket and Key are the S3 bucket and object key, from the path;
	// empty for other services and for bucket-level requests (Key).
	Bucket, Key string
	// Action is the SQS operation ("ReceiveMessage"), from X-Amz-Target
	// or a query-protocol form's Action; empty for other services.
	Action string
	// Header is the request's header; rules must not change it.
	Header http.Header
}

// A Rule decides a request's fault. It is handed the fault decided so
// far, the random draw's (None for most requests) or the previous rule's,
// and returns the one to inject: f itself to leave it, None to exempt the
// request, another fault to force it. Rules run in the order they were
// added, on the request's goroutine, concurrently with other requests and
// before anything is forwarded. A rule may block (to hold a request back)
// and may act on the world (to kill the client that sent it).
type Rule func(r *Request, f Fault) Fault

// Defaults.
const (
	DefaultRate       = 0.1
	DefaultMinLatency = 50 * time.Millisecond
	DefaultMaxLatency = 300 * time.Millisecond
)

// Option configures a Proxy.
type Option func(*Proxy)

// WithSeed seeds the random draw (default 1). The same seed gives the same
// sequence of decisions; which request meets which decision still depends
// on the order requests arrive in.
func WithSeed(seed uint64) Option { return func(p *Proxy) { p.seed = seed } }

// WithRate sets the share of requests, 0 to 1, that get a fault, for every
// service (default DefaultRate).
func WithRate(rate float64) Option {
	return func(p *Proxy) {
		for s := range p.rates {
			p.rates[s] = rate
		}
	}
}

// WithServiceRate sets the share of one service's requests that get a
// fault. Apply it after WithRate.
func WithServiceRate(s Service, rate float64) Option {
	return func(p *Proxy) { p.rates[s] = rate }
}

// WithFaults sets the faults the random draw picks from, equally likely
// (default Faults). A fault listed twice is twice as likely.
func WithFaults(faults ...Fault) Option {
	return func(p *Proxy) { p.faults = append([]Fault(nil), faults...) }
}

// WithLatency sets the range the Latency fault's delay is drawn from
// (default DefaultMinLatency to DefaultMaxLatency).
func WithLatency(min, max time.Duration) Option {
	return func(p *Proxy) { p.minLatency, p.maxLatency = min, max }
}

// WithRule adds a rule, run after the random draw and the rules added
// before it. Rules apply at any rate, 0 included.
func WithRule(r Rule) Option { return func(p *Proxy) { p.rules = append(p.rules, r) } }

// WithObserver has every request reported with its fault (None for a
// request forwarded untouched) once the rules have run, before the fault
// is applied: for logs of what was injected where. It is called
// concurrently.
func WithObserver(fn func(r *Request, f Fault)) Option {
	return func(p *Proxy) { p.observers = append(p.observers, fn) }
}

// Counts are what a proxy did to requests.
type Counts struct {
	Requests       int // requests received
	InternalErrors int // answered 500
	Throttles      int // answered with a throttling error
	ResetsBefore   int // reset without forwarding
	ResetsAfter    int // forwarded, then reset
	Delayed        int // forwarded late
}

// Faults returns how many requests got a fault of any kind.
func (c Counts) Faults() int {
	return c.InternalErrors + c.Throttles + c.ResetsBefore + c.ResetsAfter + c.Delayed
}

func (c *Counts) add(f Fault) {
	c.Requests++
	switch f {
	case InternalError:
		c.InternalErrors++
	case Throttle:
		c.Throttles++
	case ResetBefore:
		c.ResetsBefore++
	case ResetAfter:
		c.ResetsAfter++
	case Latency:
		c.Delayed++
	}
}

// Stats are a proxy's counts, in total and by service.
type Stats struct {
	Counts
	S3, SQS, CloudFront Counts
}

// Service returns the counts of one service.
func (s Stats) Service(svc Service) Counts {
	switch svc {
	case SQS:
		return s.SQS
	case CloudFront:
		return s.CloudFront
	}
	return s.S3
}

func (s *Stats) service(svc Service) *Counts {
	switch svc {
	case SQS:
		return &s.SQS
	case CloudFront:
		return &s.CloudFront
	}
	return &s.S3
}

// Proxy is a running fault proxy. It is safe for concurrent use.
type Proxy struct {
	target     *url.URL
	seed       uint64
	faults     []Fault
	minLatency time.Duration
	maxLatency time.Duration
	rules      []Rule
	observers  []func(*Request, Fault)

	ln        net.Listener
	srv       *http.Server
	transport *http.Transport
	rp        *httputil.ReverseProxy

	mu    sync.Mutex
	rng   *rand.Rand
	rates [numServices]float64
	stats Stats
	reqs  int // for request ids
}

// New starts a proxy to the emulator at target (an http:// URL) on a free
// loopback port. Close it when done.
func New(target string, opts ...Option) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: target %q: %w", target, err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: target %q: want http://host:port", target)
	}
	p := &Proxy{
		target:     u,
		seed:       1,
		faults:     Faults,
		minLatency: DefaultMinLatency,
		maxLatency: DefaultMaxLatency,
	}
	for s := range p.rates {
		p.rates[s] = DefaultRate
	}
	for _, opt := range opts {
		opt(p)
	}
	switch {
	case p.minLatency < 0 || p.maxLatency < p.minLatency:
		return nil, fmt.Errorf("faultproxy: latency range %v to %v", p.minLatency, p.maxLatency)
	case len(p.faults) == 0:
		return nil, errors.New("faultproxy: no faults to draw from")
	}
	for _, f := range p.faults {
		if f <= None || f > Latency {
			return nil, fmt.Errorf("faultproxy: %v cannot be drawn", f)
		}
	}
	for s, r := range p.rates {
		if r < 0 || r > 1 {
			return nil, fmt.Errorf("faultproxy: %v rate %v is outside 0 to 1", Service(s), r)
		}
	}
	p.rng = rand.New(rand.NewPCG(p.seed, p.seed^0x9e3779b97f4a7c15))

	p.transport = &http.Transport{
		Proxy:               nil, // the emulator is local; never via $HTTP_PROXY
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(p.target)
			// Keep the client's Host, as a transparent proxy would: it
			// is signed, and the emulator builds URLs from it.
			pr.Out.Host = pr.In.Host
		},
		Transport:    &afterTransport{next: p.transport},
		ErrorHandler: p.proxyError,
	}
	p.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second}
	go p.srv.Serve(p.ln)
	return p, nil
}

// URL returns the proxy's base URL, http://127.0.0.1:port.
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// SetRate sets the share of every service's requests that get a fault.
// Rules still apply at rate 0.
func (p *Proxy) SetRate(rate float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for s := range p.rates {
		p.rates[s] = min(max(rate, 0), 1)
	}
}

// SetServiceRate sets the share of one service's requests that get a
// fault.
func (p *Proxy) SetServiceRate(s Service, rate float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rates[s] = min(max(rate, 0), 1)
}

// Stats returns the counts so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Close stops the proxy: it stops listening and closes every connection,
// including those of requests in progress.
func (p *Proxy) Close() {
	p.srv.Close()
	p.transport.CloseIdleConnections()
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := describe(r)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadRequest)
		return
	}
	f, delay, id := p.draw(req.Service)
	for _, rule := range p.rules {
		f = rule(req, f)
	}
	p.count(req.Service, f)
	for _, obs := range p.observers {
		obs(req, f)
	}

	switch f {
	case InternalError, Throttle:
		writeError(w, r, req.Service, f, id)
	case ResetBefore:
		reset(w)
	case ResetAfter:
		p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), resetAfterKey{}, true)))
	case Latency:
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
		p.rp.ServeHTTP(w, r)
	default:
		p.rp.ServeHTTP(w, r)
	}
}

// draw picks a request's fault at its service's rate, the delay it gets
// if that ends up Latency, and a request id for error bodies. It draws
// the same numbers for every request, hit or miss, so that the sequence
// of decisions depends only on the seed and the count of requests.
func (p *Proxy) draw(svc Service) (f Fault, delay time.Duration, id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	hit := p.rng.Float64() < p.rates[svc]
	pick := p.faults[p.rng.IntN(len(p.faults))]
	delay = p.minLatency + time.Duration(p.rng.Int64N(int64(p.maxLatency-p.minLatency)+1))
	f = None
	if hit {
		f = pick
	}
	p.reqs++
	return f, delay, fmt.Sprintf("faultproxy-%08d", p.reqs)
}

func (p *Proxy) count(svc Service, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Counts.add(f)
	p.stats.service(svc).add(f)
}

type resetAfterKey struct{}

var errResetAfter = errors.New("faultproxy: reset after forwarding")

// afterTransport forwards a request; for ResetAfter it then reads and
// drops the whole answer, so the emulator has finished with the request,
// and fails, which has the ReverseProxy call proxyError.
type afterTransport struct{ next http.RoundTripper }

func (t *afterTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil || r.Context().Value(resetAfterKey{}) == nil {
		return resp, err
	}
	_, err = drain(resp)
	if err != nil {
		return nil, err
	}
	return nil, errResetAfter
}

func (p *Proxy) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errResetAfter) {
		reset(w)
		return
	}
	if r.Context().Err() != nil {
		return // the client went away
	}
	w.WriteHeader(http.StatusBadGateway)
	fmt.Fprintf(w, "faultproxy: %v\n", err)
}

// reset closes the client's connection with a TCP RST rather than a FIN,
// so the client sees "connection reset by peer", as when a server or a
// load balancer in between dies.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("faultproxy: the response writer cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
