package main

import (
	"sync"
	"testing"

	"github.com/dancu-vn/dancu/internal/exchange"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestVerifyThrottleConcurrent: 40 mismatching verifications of one number
// sent at once, half to each of two servers on the same store, answer at
// most exchange.MismatchLimit times; the rest are refused with 429. The
// throttle is one locked check-and-write in the database, not a count read
// before the comparison.
func TestVerifyThrottleConcurrent(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) {
			dbURL := sqldbtest.URL(t, engine)
			// Two processes of one deployment: one public URL, two listeners.
			a := startServer(t, dbURL)
			b := startServer(t, dbURL, "--public-url", a.URL)
			admin := login(t, a.URL, "admin", adminPassword)
			var c struct{ Secret string }
			admin.must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": "telco", "name": "telco", "type": "service"}).json(t, &c)
			admin.must(201, "POST", "/api/v1/agencies", map[string]any{"id": "telco", "name": "telco", "kind": "telecom",
				"services": []string{"verify"}, "purposes": []string{"SIM owner check"}, "rate_per_second": 10000})
			admin.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": "001090012345", "name": map[string]string{"family": "Lê", "given": "An"},
				"birth_date": "1990-02-03", "sex": "male", "permanent_residence": map[string]string{"commune": "00004"}})
			ta := agencyToken(t, a.URL, "telco", c.Secret)
			tb := &client{t: t, base: b.Addr, token: ta.token}
			var mu sync.Mutex
			statuses := map[int]int{}
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 40 {
				cl := ta
				if i%2 == 1 {
					cl = tb
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					r := cl.do("POST", "/api/v1/verify", map[string]any{"pid": "001090012345", "purpose": "SIM owner check",
						"claims": map[string]string{"name": "Không Phải"}})
					mu.Lock()
					statuses[r.Status]++
					mu.Unlock()
				}()
			}
			close(start)
			wg.Wait()
			if statuses[200] > exchange.MismatchLimit || statuses[200]+statuses[429] != 40 {
				t.Fatalf("40 concurrent mismatches: %v; want at most %d answered, the rest 429", statuses, exchange.MismatchLimit)
			}
		})
	}
}
