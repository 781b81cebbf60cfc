package dossier_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
	"github.com/dancu-vn/dancu/internal/workday"
)

// revisionFor returns the dossier reference and action of the record's
// latest revision.
func (e *env) latestRevision(t *testing.T, pid string) (string, string) {
	t.Helper()
	var ref, action string
	if err := e.db.QueryRowContext(context.Background(), `SELECT dossier_ref, action FROM citizen_revision WHERE pid = $1 ORDER BY version DESC LIMIT 1`,
		pid).Scan(&ref, &action); err != nil {
		t.Fatal(err)
	}
	return ref, action
}

func TestTemporaryResidence(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		pid := e.person(t, baDinh)
		d, err := e.svc.Submit(citizen(pid), "residence.temporary", temporaryForm(saiGon, day(365)), "k1")
		if err != nil {
			t.Fatal(err)
		}
		if d.State != dossier.Submitted || d.Commune != saiGon || !strings.HasPrefix(d.Code, "HS-20261102-") {
			t.Fatalf("submitted %+v", d)
		}
		// A retry with the same key gives the same dossier; a second
		// submission while the first is open is a duplicate.
		again, err := e.svc.Submit(citizen(pid), "residence.temporary", temporaryForm(saiGon, day(365)), "k1")
		if err != nil || again.ID != d.ID {
			t.Fatalf("retry = %s, %v", again.ID, err)
		}
		_, err = e.svc.Submit(citizen(pid), "residence.temporary", temporaryForm(saiGon, day(300)), "k2")
		wantField(t, err, "service")
		if n := e.count(t, `SELECT COUNT(*) FROM dossier`); n != 1 {
			t.Fatalf("%d dossiers after a duplicate", n)
		}
		// Only the competent commune's police handle it.
		_, err = e.svc.Receive(officer(baDinh), d.ID, "")
		wantKind(t, err, errs.Forbidden)
		d, err = e.svc.Receive(officer(saiGon), d.ID, "file complete")
		if err != nil {
			t.Fatal(err)
		}
		// Monday 2 Nov 09:00 + 3 working days: the end of Thursday 5 Nov.
		if want := time.Date(2026, 11, 6, 0, 0, 0, 0, vn); d.DueAt == nil || !d.DueAt.Equal(want) {
			t.Errorf("due %v, want %v", d.DueAt, want)
		}
		_, err = e.svc.Decide(officer(baDinh), d.ID, true, "")
		wantKind(t, err, errs.Forbidden)
		d, err = e.svc.Decide(officer(saiGon), d.ID, true, "")
		if err != nil {
			t.Fatal(err)
		}
		if d.State != dossier.Returned || d.Result == "" {
			t.Fatalf("decided %+v", d)
		}
		c := e.record(t, pid)
		if c.TemporaryResidence == nil || c.TemporaryResidence.Commune != saiGon || c.TemporaryResidenceUntil != day(365) {
			t.Fatalf("record after approval: %+v until %s", c.TemporaryResidence, c.TemporaryResidenceUntil)
		}
		if ref, action := e.latestRevision(t, pid); ref != d.Code || action != "register_temporary_residence" {
			t.Errorf("revision cites %q (%s), want %s", ref, action, d.Code)
		}
		got, err := e.svc.Get(citizen(pid), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		var states []string
		for _, s := range got.Steps {
			states = append(states, string(s.State))
		}
		if strings.Join(states, " ") != "submitted received approved returned" || got.Steps[2].ActorID != "officer-"+saiGon {
			t.Errorf("steps %+v", got.Steps)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM outbox_message WHERE recipient = $1 AND channel = 'app'`, pid); n != 4 {
			t.Errorf("%d notifications to the citizen, want 4 (submitted, received, approved, returned)", n)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM event_outbox WHERE subject = $1 AND type = 'vn.dancu.dossier.status'`, pid); n != 4 {
			t.Errorf("%d dossier-status events, want 4", n)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM event_outbox WHERE subject = $1 AND type = 'vn.dancu.residence.changed'`, pid); n != 1 {
			t.Errorf("%d residence events, want 1", n)
		}
		// Another citizen does not see it.
		_, err = e.svc.Get(citizen(e.person(t, baDinh)), d.ID)
		wantKind(t, err, errs.NotFound)
	})
}

func TestRefusalChangesNothing(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		pid := e.person(t, baDinh)
		before := e.record(t, pid)
		d, err := e.svc.Submit(citizen(pid), "residence.temporary", temporaryForm(saiGon, day(100)), "")
		if err != nil {
			t.Fatal(err)
		}
		// A decision comes after receipt.
		_, err = e.svc.Decide(officer(saiGon), d.ID, true, "")
		wantKind(t, err, errs.Conflict)
		if _, err := e.svc.Receive(officer(saiGon), d.ID, ""); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Decide(officer(saiGon), d.ID, false, " ")
		wantField(t, err, "reasons")
		d, err = e.svc.Decide(officer(saiGon), d.ID, false, "the rental contract is not signed by the owner")
		if err != nil || d.State != dossier.Refused || d.Reasons == "" {
			t.Fatalf("refused %+v, %v", d, err)
		}
		_, err = e.svc.Decide(officer(saiGon), d.ID, true, "")
		wantKind(t, err, errs.Conflict)
		if after := e.record(t, pid); after.Version != before.Version || after.TemporaryResidence != nil {
			t.Errorf("a refusal changed the record: %+v", after)
		}
	})
}

// TestConcurrentDecisions: an approval and a refusal at the same moment:
// exactly one wins, and the registry shows only the winner's outcome.
func TestConcurrentDecisions(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		for round := 0; round < 4; round++ {
			pid := e.person(t, baDinh)
			d, err := e.svc.Submit(citizen(pid), "residence.temporary", temporaryForm(saiGon, day(200)), "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Receive(officer(saiGon), d.ID, ""); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			results := make([]error, 2)
			for i := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, results[i] = e.svc.Decide(officer(saiGon), d.ID, i == 0, "refused in the race")
				}()
			}
			wg.Wait()
			wins := 0
			for _, err := range results {
				if err == nil {
					wins++
				} else if !errs.Is(err, errs.Conflict) && !errs.Is(err, errs.Unavailable) {
					t.Fatalf("decision failed with %v", err)
				}
			}
			got, _ := e.svc.Get(officer(saiGon), d.ID)
			changed := e.record(t, pid).TemporaryResidence != nil
			if wins != 1 || changed != (got.State == dossier.Returned) {
				t.Fatalf("round %d: %d decisions won, state %s, registry changed %v", round, wins, got.State, changed)
			}
		}
	})
}

// TestBadInputWritesNothing: every bad submission is refused with the
// field and the reason, and no dossier is stored.
func TestBadInputWritesNothing(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		pid := e.person(t, baDinh)
		cases := []struct {
			name, service string
			data          json.RawMessage
			field         string
		}{
			{"unknown service", "residence.moon", temporaryForm(saiGon, day(30)), "service"},
			{"service not run here", "civil.birth", temporaryForm(saiGon, day(30)), "service"},
			{"no address", "residence.temporary", form(map[string]any{"until": day(30), "lawful_residence": "x"}), "data.address"},
			{"unknown commune", "residence.temporary", temporaryForm("99999", day(30)), "data.address.commune"},
			{"address abroad", "residence.temporary", form(map[string]any{"address": map[string]string{"country": "FRA", "commune": saiGon, "detail": "Paris"},
				"until": day(30), "lawful_residence": "x"}), "data.address.country"},
			{"over 2 years", "residence.temporary", temporaryForm(saiGon, day(2*366)), "data.until"},
			{"ended", "residence.temporary", temporaryForm(saiGon, day(-1)), "data.until"},
			{"bad date", "residence.temporary", temporaryForm(saiGon, "31/12/2026"), "data.until"},
			{"no proof", "residence.temporary", form(map[string]any{"address": map[string]string{"commune": saiGon, "detail": "số 1"}, "until": day(30)}), "data.lawful_residence"},
			{"own commune", "residence.temporary", temporaryForm(baDinh, day(30)), "data.address.commune"},
			{"unknown field", "residence.temporary", form(map[string]any{"address": map[string]string{"commune": saiGon, "detail": "số 1"}, "until": day(30),
				"lawful_residence": "x", "name": "Nguyễn Văn B"}), "data.name"},
			{"wrong type", "residence.temporary", form(map[string]any{"address": "Sài Gòn", "until": day(30), "lawful_residence": "x"}), "data.address"},
			{"renewal without a stay", "residence.temporary.renewal", form(map[string]string{"until": day(90)}), "service"},
			{"bad deregistration case", "residence.temporary.deregistration", form(map[string]string{"case": "z"}), "data.case"},
			{"absence without reason", "residence.absence", form(map[string]string{"from": day(0)}), "data.reason"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.svc.Submit(citizen(pid), tc.service, tc.data, "")
				wantField(t, err, tc.field)
			})
		}
		if n := e.count(t, `SELECT COUNT(*) FROM dossier`); n != 0 {
			t.Errorf("%d dossiers stored by refused submissions", n)
		}
		// Officers and anonymous callers do not submit.
		_, err := e.svc.Submit(officer(saiGon), "residence.temporary", temporaryForm(saiGon, day(30)), "")
		wantKind(t, err, errs.Forbidden)
		_, err = e.svc.Submit(context.Background(), "residence.temporary", temporaryForm(saiGon, day(30)), "")
		wantKind(t, err, errs.Unauthenticated)
	})
}

func TestRenewalAbsenceDeregistration(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		staying := func(until string) func(*registry.LegacyRecord) {
			return func(r *registry.LegacyRecord) {
				r.TemporaryResidence = &registry.Address{Commune: saiGon, Detail: "số 45 Lê Lợi"}
				r.TemporaryResidenceUntil = until
			}
		}
		decide := func(t *testing.T, commune string, d dossier.Dossier) dossier.Dossier {
			t.Helper()
			if _, err := e.svc.Receive(officer(commune), d.ID, ""); err != nil {
				t.Fatal(err)
			}
			d, err := e.svc.Decide(officer(commune), d.ID, true, "")
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		// Renewal: only in the 15 days before the end, for at most 2 years.
		early := e.person(t, baDinh, staying(day(40)))
		_, err := e.svc.Submit(citizen(early), "residence.temporary.renewal", form(map[string]string{"until": day(300)}), "")
		wantField(t, err, "service")
		due := e.person(t, baDinh, staying(day(10)))
		_, err = e.svc.Submit(citizen(due), "residence.temporary.renewal", form(map[string]string{"until": day(800)}), "")
		wantField(t, err, "data.until")
		d, err := e.svc.Submit(citizen(due), "residence.temporary.renewal", form(map[string]string{"until": day(300)}), "")
		if err != nil || d.Commune != saiGon {
			t.Fatalf("renewal %+v, %v", d, err)
		}
		d = decide(t, saiGon, d)
		if c := e.record(t, due); c.TemporaryResidenceUntil != day(300) {
			t.Errorf("after renewal until %s", c.TemporaryResidenceUntil)
		}
		if ref, action := e.latestRevision(t, due); ref != d.Code || action != "renew_temporary_residence" {
			t.Errorf("renewal revision %s %s", ref, action)
		}

		// Temporary absence: decided by the commune of permanent residence.
		away := e.person(t, baDinh)
		d, err = e.svc.Submit(citizen(away), "residence.absence", form(map[string]any{"from": day(1), "until": day(200), "reason": "work abroad",
			"destination": map[string]string{"country": "JPN", "detail": "Osaka"}}), "")
		if err != nil || d.Commune != baDinh {
			t.Fatalf("absence %+v, %v", d, err)
		}
		d = decide(t, baDinh, d)
		if c := e.record(t, away); c.TemporaryAbsence == nil || c.TemporaryAbsence.Reason != "work abroad" || c.TemporaryAbsence.Destination.Country != "JPN" {
			t.Errorf("after absence %+v", c.TemporaryAbsence)
		}
		if ref, action := e.latestRevision(t, away); ref != d.Code || action != "declare_temporary_absence" {
			t.Errorf("absence revision %s %s", ref, action)
		}

		// Deregistration of a temporary residence.
		leaving := e.person(t, baDinh, staying(day(100)))
		d, err = e.svc.Submit(citizen(leaving), "residence.temporary.deregistration", form(map[string]string{"case": "f", "note": "lease ended"}), "")
		if err != nil {
			t.Fatal(err)
		}
		d = decide(t, saiGon, d)
		if c := e.record(t, leaving); c.TemporaryResidence != nil || c.TemporaryResidenceUntil != "" {
			t.Errorf("after deregistration %+v %s", c.TemporaryResidence, c.TemporaryResidenceUntil)
		}
		if ref, action := e.latestRevision(t, leaving); ref != d.Code || action != "deregister_temporary_residence" {
			t.Errorf("deregistration revision %s %s", ref, action)
		}
	})
}

func TestInformationRequestAndWithdrawal(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		pid := e.person(t, baDinh)
		d, _ := e.svc.Submit(citizen(pid), "residence.temporary", temporaryForm(saiGon, day(100)), "")
		// Nobody asked for more: the applicant does not receive their own
		// dossier by "completing" it.
		_, err := e.svc.Supplement(citizen(pid), d.ID, temporaryForm(saiGon, day(100)))
		wantKind(t, err, errs.Conflict)
		e.svc.Receive(officer(saiGon), d.ID, "")
		_, err = e.svc.Supplement(citizen(pid), d.ID, temporaryForm(saiGon, day(100)))
		wantKind(t, err, errs.Conflict)
		_, err = e.svc.RequestInfo(officer(saiGon), d.ID, "")
		wantField(t, err, "reasons")
		d, err = e.svc.RequestInfo(officer(saiGon), d.ID, "attach the owner's consent")
		if err != nil || d.State != dossier.InfoRequested {
			t.Fatalf("request info %+v, %v", d, err)
		}
		_, err = e.svc.Decide(officer(saiGon), d.ID, true, "")
		wantKind(t, err, errs.Conflict)
		e.clock.Add(4 * 24 * time.Hour) // Friday 6 Nov
		d, err = e.svc.Supplement(citizen(pid), d.ID, temporaryForm(saiGon, day(120)))
		if err != nil || d.State != dossier.Received {
			t.Fatalf("supplement %+v, %v", d, err)
		}
		// The deadline runs again from the completed file: Friday + 3
		// working days is the end of Wednesday 11 November.
		if want := time.Date(2026, 11, 12, 0, 0, 0, 0, vn); !d.DueAt.Equal(want) {
			t.Errorf("due after supplement %v, want %v", d.DueAt, want)
		}
		_, err = e.svc.Withdraw(officer(saiGon), d.ID, "")
		wantKind(t, err, errs.Forbidden)
		d, err = e.svc.Withdraw(citizen(pid), d.ID, "moving elsewhere")
		if err != nil || d.State != dossier.Withdrawn {
			t.Fatalf("withdraw %+v, %v", d, err)
		}
		_, err = e.svc.Decide(officer(saiGon), d.ID, true, "")
		wantKind(t, err, errs.Conflict)
	})
}

// TestDeadlines: the due time of each procedure, received at different
// moments, across weekends and the Tết 2027 holiday.
func TestDeadlines(t *testing.T) {
	cal := workday.Vietnam()
	at := func(y, m, d, h int) time.Time { return time.Date(y, time.Month(m), d, h, 0, 0, 0, vn) }
	cases := []struct {
		service  string
		received time.Time
		due      time.Time
	}{
		{"residence.temporary", at(2026, 11, 2, 9), at(2026, 11, 6, 0)},   // Monday: Tue, Wed, Thu
		{"residence.temporary", at(2026, 11, 6, 16), at(2026, 11, 12, 0)}, // Friday: Mon, Tue, Wed
		{"residence.temporary", at(2026, 11, 7, 10), at(2026, 11, 12, 0)}, // Saturday: as Friday
		{"residence.absence", at(2026, 11, 6, 16), at(2026, 11, 10, 0)},   // 1 day: Monday
		{"residence.permanent", at(2026, 11, 2, 9), at(2026, 11, 12, 0)},  // 7 days
		{"residence.permanent.deregistration", at(2026, 12, 31, 9), at(2027, 1, 9, 0)},
		// Tết 2027 (Saturday 6 February): days off 5–9 February, and 10–11
		// February for the holidays that fell on the weekend; then Friday
		// 12, Monday 15, Tuesday 16.
		{"residence.temporary", at(2027, 2, 4, 9), at(2027, 2, 17, 0)},
		{"residence.temporary.deregistration", at(2027, 2, 4, 9), at(2027, 2, 16, 0)},
	}
	for _, tc := range cases {
		e, ok := entry(tc.service)
		if !ok {
			t.Fatalf("no service %s", tc.service)
		}
		got := cal.Deadline(tc.received, int(e.Days+0.99))
		if !got.Equal(tc.due) {
			t.Errorf("%s received %s: due %s, want %s", tc.service, tc.received.Format(time.DateTime), got.In(vn).Format(time.DateTime), tc.due.Format(time.DateTime))
		}
	}
}

func entry(code string) (dossier.CatalogEntry, bool) {
	for _, e := range dossier.Catalog {
		if e.Code == code {
			return e, true
		}
	}
	return dossier.CatalogEntry{}, false
}

func TestCatalog(t *testing.T) {
	essential := map[int]bool{}
	codes := map[string]bool{}
	for _, e := range dossier.Catalog {
		if codes[e.Code] {
			t.Errorf("service %s listed twice", e.Code)
		}
		codes[e.Code] = true
		if e.Essential != 0 {
			essential[e.Essential] = true
		}
		if e.NameVI == "" || e.NameEN == "" || e.Agency == "" {
			t.Errorf("service %s lacks a name or agency", e.Code)
		}
	}
	if len(essential) != 25 {
		t.Errorf("%d of the 25 essential services are in the catalog", len(essential))
	}
}

func TestQueueAndStats(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		var ids []string
		for i := 0; i < 3; i++ {
			d, err := e.svc.Submit(citizen(e.person(t, baDinh)), "residence.temporary", temporaryForm(saiGon, day(60)), "")
			if err != nil {
				t.Fatal(err)
			}
			e.svc.Receive(officer(saiGon), d.ID, "")
			ids = append(ids, d.ID)
		}
		// One decided at once, one after its deadline, one left open.
		e.svc.Decide(officer(saiGon), ids[0], true, "")
		e.clock.Add(6 * 24 * time.Hour)
		if q, _ := e.svc.Queue(officer(saiGon), "", true, 10); len(q) != 2 || !q[0].Overdue {
			t.Errorf("overdue queue %d", len(q))
		}
		if q, _ := e.svc.Queue(officer(baDinh), "", false, 10); len(q) != 0 {
			t.Errorf("another commune sees %d dossiers", len(q))
		}
		e.svc.Decide(officer(saiGon), ids[1], false, "late refusal")
		stats, err := e.svc.Stats(officer(saiGon), "2026-11")
		if err != nil || len(stats) != 1 {
			t.Fatalf("stats %+v, %v", stats, err)
		}
		s := stats[0]
		if s.Submitted != 3 || s.Decided != 2 || s.OnTime != 1 || s.Overdue != 1 || s.OnTimeRate != 0.5 {
			t.Errorf("stats %+v", s)
		}
		_, err = e.svc.Stats(officer(saiGon), "November")
		wantField(t, err, "month")
	})
}

// TestOfficerRefusals: for every procedure with an approval step, a
// refusal by the competent officer leaves the registry as it was.
func TestOfficerRefusals(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		staying := func(r *registry.LegacyRecord) {
			r.TemporaryResidence = &registry.Address{Commune: saiGon, Detail: "số 45 Lê Lợi"}
			r.TemporaryResidenceUntil = day(10)
		}
		for _, tc := range []struct {
			service, commune string
			data             json.RawMessage
		}{
			{"residence.temporary", saiGon, temporaryForm(saiGon, day(90))},
			{"residence.temporary.renewal", saiGon, form(map[string]string{"until": day(200)})},
			{"residence.absence", baDinh, form(map[string]string{"from": day(1), "reason": "study"})},
			{"residence.temporary.deregistration", saiGon, form(map[string]string{"case": "f"})},
			{"residence.permanent", saiGon, form(map[string]any{"new_household_address": map[string]string{"commune": saiGon, "detail": "số 8"}, "lawful_residence": "x"})},
			{"residence.permanent.deregistration", baDinh, form(map[string]string{"case": "b"})},
		} {
			t.Run(tc.service, func(t *testing.T) {
				pid := e.person(t, baDinh, staying)
				before := e.record(t, pid)
				d, err := e.svc.Submit(citizen(pid), tc.service, tc.data, "")
				if err != nil {
					t.Fatal(err)
				}
				if d.Commune != tc.commune {
					t.Fatalf("routed to %s, want %s", d.Commune, tc.commune)
				}
				e.svc.Receive(officer(tc.commune), d.ID, "")
				d, err = e.svc.Decide(officer(tc.commune), d.ID, false, "the file does not support the request")
				if err != nil || d.State != dossier.Refused {
					t.Fatalf("refusal %+v, %v", d, err)
				}
				if after := e.record(t, pid); after.Version != before.Version {
					t.Errorf("the refusal changed the record (version %d → %d)", before.Version, after.Version)
				}
			})
		}
	})
}
