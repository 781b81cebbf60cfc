package events_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/events"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestSubscribeURL: a webhook is https to a public host; anything that
// points back into the server's own network is refused with the field
// "url" and the reason, unless the operator allowed the host.
func TestSubscribeURL(t *testing.T) {
	db := sqldbtest.Open(t, "sqlite")
	sealer, _ := eid.NewSealer(bytes.Repeat([]byte{5}, 32))
	strict := events.NewService(db, sealer, nil, time.Now)
	lab := events.NewService(db, sealer, nil, time.Now, events.AllowHosts("127.0.0.1", "Hooks.Lab.Internal"))
	types := []string{"vn.dancu.citizen.born"}
	for _, tc := range []struct {
		svc    *events.Service
		url    string
		reason string // "" when accepted
	}{
		{strict, "https://hooks.moh.gov.vn/events", ""},
		{strict, "https://hooks.moh.gov.vn:8443/events?x=1", ""},
		{strict, "https://8.8.8.8/hook", ""},
		{strict, "https://[2001:4860:4860::8888]/hook", ""},
		{strict, "http://hooks.moh.gov.vn/events", "https"},
		{strict, "ftp://hooks.moh.gov.vn/events", "https"},
		{strict, "https://127.0.0.1/hook", "non-public"},
		{strict, "https://127.0.0.1:8080/api/v1/officers", "non-public"},
		{strict, "https://[::1]/hook", "non-public"},
		{strict, "https://[::ffff:127.0.0.1]/hook", "non-public"},
		{strict, "https://10.0.0.1/hook", "non-public"},
		{strict, "https://172.16.5.4/hook", "non-public"},
		{strict, "https://192.168.1.1/hook", "non-public"},
		{strict, "https://169.254.169.254/latest/meta-data/", "non-public"},
		{strict, "https://100.64.0.1/hook", "non-public"},
		{strict, "https://0.0.0.0/hook", "non-public"},
		{strict, "https://224.0.0.1/hook", "non-public"},
		{strict, "https://[fd00::1]/hook", "non-public"},
		{strict, "https://[fe80::1%25eth0]/hook", "non-public"},
		{strict, "https://[::]/hook", "non-public"},
		{strict, "https://[ff02::1]/hook", "non-public"},
		{strict, "https://localhost/hook", "localhost"},
		{strict, "https://LOCALHOST./hook", "localhost"},
		{strict, "https://api.localhost/hook", "localhost"},
		{strict, "https://2130706433/hook", "DNS name"},
		{strict, "https://127.1/hook", "DNS name"},
		{strict, "https://0x7f.1/hook", "DNS name"},
		{strict, "https://user:secret@hooks.moh.gov.vn/events", "password"},
		{strict, "hooks.moh.gov.vn/events", "absolute"},
		{strict, "https:///events", "absolute"},
		{strict, "https://hooks.moh.gov.vn:99999/events", "port"},
		{lab, "http://127.0.0.1:8080/hook", ""},
		{lab, "https://127.0.0.1/hook", ""},
		{lab, "http://hooks.lab.internal/hook", ""},
		{lab, "http://127.0.0.2/hook", "https"},
		{lab, "https://10.0.0.1/hook", "non-public"},
		{lab, "https://localhost/hook", "localhost"},
	} {
		_, _, err := tc.svc.Subscribe(agencyCtx(), tc.url, types)
		if tc.reason == "" {
			if err != nil {
				t.Errorf("%s refused: %v", tc.url, err)
			}
			continue
		}
		var e *errs.Error
		if !errs.Is(err, errs.Invalid) || !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != "url" || !strings.Contains(e.Fields[0].Reason, tc.reason) {
			t.Errorf("%s: %v, want field url refused for %q", tc.url, err, tc.reason)
		}
	}
}

// TestDeliveryRefusesNonPublicAddress: a name that passed at subscription
// but resolves to the loopback when the event is delivered (DNS
// rebinding) is not connected to, unless the operator allowed the host;
// nor is a name with one internal address among public ones.
func TestDeliveryRefusesNonPublicAddress(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		var accepted atomic.Int32
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted.Add(1)
				c.Close()
			}
		}()
		port := ln.Addr().(*net.TCPAddr).Port
		answers := map[string][]netip.Addr{
			"hook.example.test":  {netip.MustParseAddr("127.0.0.1")},
			"mixed.example.test": {netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("127.0.0.1")},
		}
		lookup := events.WithLookup(func(_ context.Context, host string) ([]netip.Addr, error) {
			if a, ok := answers[host]; ok {
				return a, nil
			}
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		})
		clk := &clock{t: time.Now()}
		sealer, _ := eid.NewSealer(bytes.Repeat([]byte{5}, 32))
		strict := events.NewService(db, sealer, nil, clk.now, lookup)
		for _, host := range []string{"hook.example.test", "mixed.example.test"} {
			if _, _, err := strict.Subscribe(agencyCtx(), "https://"+host+":"+strconv.Itoa(port)+"/events", []string{"vn.dancu.residence.changed"}); err != nil {
				t.Fatalf("subscribe %s: %v", host, err)
			}
		}
		emit(t, db, 1)
		if n, err := strict.Deliver(ctx); n != 0 || err != nil {
			t.Fatalf("Deliver = %d, %v", n, err)
		}
		if n := accepted.Load(); n != 0 {
			t.Fatalf("%d connections reached the loopback listener", n)
		}
		rows, err := db.QueryContext(ctx, `SELECT s.url, d.last_error FROM delivery d JOIN subscription s ON s.id = d.subscription_id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var u, last string
			rows.Scan(&u, &last)
			if !strings.Contains(last, "resolves to 127.0.0.1") || !strings.Contains(last, "not a public address") {
				t.Errorf("delivery to %s failed with %q, want the address refused", u, last)
			}
		}
		// The same host allowed by the operator: the connection is made, so
		// the refusal above was the address check and nothing else.
		clk.add(time.Hour)
		lab := events.NewService(db, sealer, nil, clk.now, lookup, events.AllowHosts("hook.example.test"))
		lab.Deliver(ctx)
		if accepted.Load() == 0 {
			t.Error("the allowed host was not connected to")
		}
	})
}
