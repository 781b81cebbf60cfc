package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// gateway is the message gateway every test server posts to: what an SMS
// or e-mail provider's adapter would receive. Tests read activation codes
// from here, as a citizen reads them on their phone, never from the API.
type gateway struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []gatewayMessage
	seen map[string]bool
}

type gatewayMessage struct {
	ID, Channel, To, Subject, Body string
}

func newGateway(t *testing.T) *gateway {
	g := &gateway{seen: map[string]bool{}}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m gatewayMessage
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&m) != nil || m.ID == "" {
			http.Error(w, "bad message", http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		if !g.seen[m.ID] { // deduplicated by ID, as the contract says
			g.seen[m.ID] = true
			g.msgs = append(g.msgs, m)
		}
		g.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

// gateways finds a test server's gateway by its public URL, for helpers
// that hold only a client.
var gateways sync.Map

// messagesTo waits up to thirty seconds for at least n messages to recipient
// at the server behind base, and returns them, newest first.
func messagesTo(t *testing.T, base, recipient string, n int) []gatewayMessage {
	t.Helper()
	v, ok := gateways.Load(base)
	if !ok {
		t.Fatalf("no message gateway for %s", base)
	}
	g := v.(*gateway)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var out []gatewayMessage
		g.mu.Lock()
		for i := len(g.msgs) - 1; i >= 0; i-- {
			if g.msgs[i].To == recipient {
				out = append(out, g.msgs[i])
			}
		}
		g.mu.Unlock()
		if len(out) >= n || time.Now().After(deadline) {
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var (
	codePattern   = regexp.MustCompile(`code is (\d{6})`)
	codePatternVI = regexp.MustCompile(`mã kích hoạt của bạn là (\d{6})`)
)

// activationCode is the newest activation code sent to recipient, waiting
// for it (other messages, such as the approval's notice, may come first).
func activationCode(t *testing.T, base, recipient string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for n := 1; ; n++ {
		for _, m := range messagesTo(t, base, recipient, n) {
			if c := codePattern.FindStringSubmatch(m.Body); c != nil {
				// The notice says it in Vietnamese first, then English.
				if vi := codePatternVI.FindStringSubmatch(m.Body); vi == nil || vi[1] != c[1] || strings.Index(m.Body, vi[0]) > strings.Index(m.Body, c[0]) {
					t.Errorf("the activation notice is not in Vietnamese and English: %q", m.Body)
				}
				return c[1]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no activation code reached the gateway for %s", recipient)
		}
	}
}
