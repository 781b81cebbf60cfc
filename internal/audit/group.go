package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// NewGroupEvent is one access concerning many people at once, such as a
// chunk of a batch verification: a single event whose subjects are stored
// one narrow row each in access_subject, where each person's access log
// finds them. The detail ends with the number of people and a SHA-256 over
// their sorted numbers, so the hash chain that seals the event seals its
// subjects too.
func NewGroupEvent(ctx context.Context, now time.Time, action string, subjects []string, detail string) Event {
	ev := NewEvent(ctx, now, action, "", "")
	ev.Subjects = slices.Clone(subjects)
	if !slices.IsSorted(ev.Subjects) { // a batch hands them over sorted already
		slices.Sort(ev.Subjects)
	}
	ev.Subjects = slices.Compact(ev.Subjects)
	people := fmt.Sprintf("%d persons", len(ev.Subjects))
	if len(ev.Subjects) == 1 {
		people = "1 person"
	}
	ev.Detail = fmt.Sprintf("%s; %s; subjects sha256:%s", detail, people, SubjectsDigest(ev.Subjects))
	return ev
}

// SubjectsDigest is the SHA-256 over sorted personal ID numbers, each
// followed by a newline.
func SubjectsDigest(sorted []string) string {
	h := sha256.New()
	for _, s := range sorted {
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

var digestInDetail = regexp.MustCompile(`; (\d+) persons?; subjects sha256:([0-9a-f]{64})$`)

// SubjectDetail is the detail as one of its people reads it: for a group
// event, without the number of people and the digest of their numbers.
func (e Event) SubjectDetail() string {
	if loc := digestInDetail.FindStringIndex(e.Detail); loc != nil {
		return e.Detail[:loc[0]]
	}
	return e.Detail
}

// groupDigest returns the digest a group event's detail states.
func groupDigest(e Event) (string, bool) {
	m := digestInDetail.FindStringSubmatch(e.Detail)
	if e.Subject != "" || m == nil {
		return "", false
	}
	return m[2], true
}

// writeSubjects stores the subjects of group events: the numbers as one
// array parameter per event (json_each in SQLite, unnest in PostgreSQL).
func writeSubjects(ctx context.Context, tx *sql.Tx, d sqldb.Dialect, evs []Event) error {
	for _, e := range evs {
		if len(e.Subjects) == 0 {
			continue
		}
		var err error
		if d == sqldb.SQLite {
			arr, _ := json.Marshal(e.Subjects)
			_, err = tx.ExecContext(ctx, `INSERT INTO access_subject (subject_pid, event_id) SELECT value, $2 FROM json_each($1)`, string(arr), e.ID)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO access_subject (subject_pid, event_id) SELECT unnest($1::text[]), $2`, e.Subjects, e.ID)
		}
		if err != nil {
			return fmt.Errorf("record the subjects of access event %s: %w", e.ID, err)
		}
	}
	return nil
}

// RecordAlone writes one event (typically a large group event) in a
// transaction of its own, outside the group-commit queue, so that several
// parts of a large batch can be written side by side. It returns once the
// event is committed.
func (r *Recorder) RecordAlone(ctx context.Context, ev Event) error {
	ev.sanitise()
	err := r.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := writeMany(ctx, tx, r.db.Dialect, []Event{ev}); err != nil {
			return err
		}
		return writeSubjects(ctx, tx, r.db.Dialect, []Event{ev})
	})
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "the access could not be recorded, try again")
	}
	return nil
}
