package web

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A portal session ends PortalIdle after its last page and PortalMax
// after signing in, whatever its tokens allow; at the boundaries exactly.
func TestPortalSessionLimits(t *testing.T) {
	login := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	ps := portalSession{Since: login.Unix(), Seen: login.Unix()}
	for _, c := range []struct {
		at   time.Time
		seen time.Time
		live bool
	}{
		{login.Add(PortalIdle), login, true},
		{login.Add(PortalIdle + time.Second), login, false},
		{login.Add(PortalMax), login.Add(PortalMax - time.Minute), true},
		{login.Add(PortalMax + time.Second), login.Add(PortalMax), false},
	} {
		ps.Seen = c.seen.Unix()
		if got := ps.live(c.at); got != c.live {
			t.Errorf("at %s, last page %s: live %v, want %v", c.at.Sub(login), c.seen.Sub(login), got, c.live)
		}
	}
}

// Requests that carry the same refresh token at once redeem it once: the
// provider revokes a refresh token's family when it sees it twice, which
// would sign the citizen out of two tabs refreshing together.
func TestPortalRefreshOnce(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	idp := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/token" {
			http.NotFound(w, r)
			return
		}
		calls.Add(1)
		<-release
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "new-access", "refresh_token": "new-refresh", "token_type": "Bearer", "expires_in": 900})
	})
	s := &Web{Deps: Deps{IdP: idp, PublicURL: "http://portal.test", PortalSecret: "secret", Now: time.Now}}
	var wg sync.WaitGroup
	got := make([]string, 5)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := s.refresh(context.Background(), "old-refresh")
			if err == nil {
				got[i] = tok.RefreshToken
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("the refresh token was redeemed %d times", n)
	}
	for i, r := range got {
		if r != "new-refresh" {
			t.Errorf("request %d got %q", i, r)
		}
	}
	// A request a moment later with the same old token gets the same answer.
	if tok, err := s.refresh(context.Background(), "old-refresh"); err != nil || tok.AccessToken != "new-access" || calls.Load() != 1 {
		t.Errorf("a late request: %v %v (%d redemptions)", tok, err, calls.Load())
	}
}
