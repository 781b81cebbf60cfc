package card_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/card/chiptest"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestPersonalisation: production gives the card factory, once, the
// chip's files and its private keys; the chip the factory writes answers
// Active and Chip Authentication through Verify, a clone of its files
// does not; Chip gives the same files and no keys; no table of the
// database and no log line holds the keys.
func TestPersonalisation(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newCardEnv(t, db)
		if _, _, err := e.store.Init(ctx, *e.clock); err != nil {
			t.Fatal(err)
		}
		const pid = "001090000302"
		c := e.firstCard(t, pid, registry.Name{Family: "Lê", Given: "Minh"}, "1990-01-02", personalid.Male)
		p := c.Personalisation
		if p == nil || len(p.Keys.ChipAuthentication) == 0 || len(p.Keys.ActiveAuthentication) == 0 {
			t.Fatalf("no personalisation: %+v", p)
		}
		sod, com, groups, err := e.svc.Chip(e.officer, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sod, p.SOD) || !bytes.Equal(com, p.COM) || !maps.EqualFunc(groups, p.DataGroups, bytes.Equal) || !slices.Equal(slices.Sorted(maps.Keys(groups)), []int{1, 2, 13, 14, 15}) {
			t.Errorf("the chip read back is not what was personalised: %v", slices.Sorted(maps.Keys(groups)))
		}
		if s := fmt.Sprintf("%v %+v %#v %s %v %+v %#v", *p, *p, *p, *p, p.Keys, p.Keys, p.Keys); strings.Contains(s, string(p.Keys.ActiveAuthentication)) ||
			strings.Contains(s, strings.Trim(fmt.Sprint(p.Keys.ActiveAuthentication), "[]")) || strings.Count(s, "withheld") != 7 {
			t.Errorf("a formatted personalisation shows the keys: %q", s)
		}
		chip := chiptest.New(*p)
		clone, err := chiptest.Clone(chip)
		if err != nil {
			t.Fatal(err)
		}
		challenge := []byte{1, 2, 3, 4, 5, 6, 7, 8}
		terminal, terminalPub, _ := chiptest.Terminal()
		prove := func(ch *chiptest.Chip) card.VerifyOptions {
			sig, err := ch.InternalAuthenticate(challenge)
			if err != nil {
				t.Fatal(err)
			}
			token, err := ch.ChipAuthenticate(terminalPub)
			if err != nil {
				t.Fatal(err)
			}
			return card.VerifyOptions{COM: com, AA: &card.AAProof{Challenge: challenge, Signature: sig}, CA: &card.CAProof{TerminalKey: terminal, Token: token}}
		}
		v, err := e.svc.Verify(e.officer, sod, groups, prove(chip))
		if err != nil || !v.Valid || len(v.Failed) != 0 {
			t.Fatalf("the genuine chip: %+v, %v", v, err)
		}
		if !slices.ContainsFunc(v.Checks, func(c card.Check) bool { return c.Name == "active_authentication" && c.OK }) ||
			!slices.ContainsFunc(v.Checks, func(c card.Check) bool { return c.Name == "chip_authentication" && c.OK }) {
			t.Errorf("checks %+v", v.Checks)
		}
		v, err = e.svc.Verify(e.officer, sod, groups, prove(clone))
		if err != nil || v.Valid || !slices.Equal(v.Failed, []string{"aa_signature", "ca_token"}) {
			t.Errorf("the clone: %+v, %v", v, err)
		}
		noDG15 := maps.Clone(groups)
		delete(noDG15, 15)
		if v, _ := e.svc.Verify(e.officer, sod, noDG15, card.VerifyOptions{AA: prove(chip).AA}); v.Valid || !slices.Equal(v.Failed, []string{"aa_missing_dg15"}) {
			t.Errorf("AA without DG15: %+v", v.Failed)
		}
		needles, err := chiptest.KeyForms(p.Keys)
		if err != nil {
			t.Fatal(err)
		}
		if found := sqldbtest.Holding(t, db, needles); len(found) != 0 {
			t.Errorf("the chip's private keys are in the database: %v", found)
		}
		// The audit recorder logs at debug level into e.log (the server's
		// own log lines are scanned end to end, in cmd/dancu).
		if logs := e.log.Bytes(); slices.ContainsFunc(needles, func(n []byte) bool { return bytes.Contains(logs, n) }) {
			t.Errorf("the chip's private keys are in the log")
		}
		// The answer to production is the only place the keys are: its JSON
		// holds them, the JSON of what Chip gives does not.
		answer, _ := json.Marshal(c)
		if !bytes.Contains(answer, needles[1]) {
			t.Errorf("the production answer lacks the keys")
		}
	})
}
