// Package websub tells a WebSub hub that feeds changed, so that readers
// subscribed through the hub get a new post in seconds instead of at
// their next poll.
//
// It is the publisher's half of WebSub only: a ping naming the topics
// that changed. It does not subscribe, verify intents or deliver content,
// and it does not advertise the hub: package feed puts rel="hub" in the
// feeds, from site.Config.HubURL.
//
// The W3C recommendation leaves how a publisher tells its hub to the hub.
// The hubs in use take PubSubHubbub's ping: a form POST of
// hub.mode=publish and hub.url=<topic URL>, answered with a 2xx (204 No
// Content, mostly). PubSubHubbub 0.3 lets hub.url repeat, but not every
// hub reads more than the first, so Ping sends one request per topic.
package websub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds each ping when New is given no client.
const DefaultTimeout = 10 * time.Second

// Pinger notifies one hub. It is safe for concurrent use.
type Pinger struct {
	client *http.Client
	hub    string
	name   string // hub with any password hidden, for errors
}

// New returns a Pinger for the hub at hubURL. A nil client means a
// client with DefaultTimeout. Credentials in hubURL (some hubs take
// https://user:token@hub/) are sent as basic authentication and kept out
// of errors.
func New(client *http.Client, hubURL string) *Pinger {
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	name := hubURL
	if u, err := url.Parse(hubURL); err == nil {
		name = u.Redacted()
	}
	return &Pinger{client: client, hub: hubURL, name: name}
}

// Ping tells the hub that each of feedURLs, the topics' absolute URLs as
// the feeds' rel="self" links give them, has new content. It pings every
// URL once, in order, even after one fails, and returns the failures
// joined: a transport error or an answer other than 2xx. It stops early
// only when ctx is done.
func (p *Pinger) Ping(ctx context.Context, feedURLs []string) error {
	var errs []error
	seen := make(map[string]bool, len(feedURLs))
	for _, u := range feedURLs {
		if seen[u] {
			continue
		}
		seen[u] = true
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, fmt.Errorf("ping %s: %w", p.name, err))...)
		}
		if err := p.ping(ctx, u); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// maxErrorBody is how much of a hub's error answer goes into the error.
const maxErrorBody = 200

func (p *Pinger) ping(ctx context.Context, topic string) error {
	form := url.Values{"hub.mode": {"publish"}, "hub.url": {topic}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.hub, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("ping %s for %s: %w", p.name, topic, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("ping %s for %s: %w", p.name, topic, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection can be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := strings.Join(strings.Fields(string(body)), " ")
		if msg != "" {
			msg = ": " + msg
		}
		return fmt.Errorf("ping %s for %s: %s%s", p.name, topic, resp.Status, msg)
	}
	return nil
}
