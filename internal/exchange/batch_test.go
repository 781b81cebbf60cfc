package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestReadBatch: records read back in order whichever part decodes them,
// blank lines and CRLF are fine, and a bad line refuses the file naming
// that line wherever it falls.
func TestReadBatch(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 1000; i++ {
		fmt.Fprintf(&b, `{"pid":"0010900%05d","claims":{"name":"Nguyen Van An"}}`+"\r\n", i)
		if i%100 == 0 {
			b.WriteString("\n")
		}
	}
	good := b.String()
	items, err := readBatch(strings.NewReader(good))
	if err != nil || len(items) != 1000 {
		t.Fatalf("%d items, %v", len(items), err)
	}
	for i, it := range items {
		if it.PID != fmt.Sprintf("0010900%05d", i+1) || it.Claims.Name != "Nguyen Van An" {
			t.Fatalf("item %d: %+v", i, it)
		}
	}
	lines := strings.Split(good, "\n")
	for _, n := range []int{1, 2, 500, 700, 1009} {
		for name, bad := range map[string]string{
			"unknown field":     `{"pid":"001090000001","claim":{}}`,
			"not an object":     `["001090000001"]`,
			"two on one line":   `{"pid":"001090000001"} {"pid":"001090000002"}`,
			"cut short":         `{"pid":"0010900`,
			"wrong type of pid": `{"pid":1090000001}`,
		} {
			spoilt := append([]string{}, lines...)
			spoilt[n-1] = bad
			_, err := readBatch(strings.NewReader(strings.Join(spoilt, "\n")))
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("line %d:", n)) {
				t.Errorf("%s at line %d: %v", name, n, err)
			}
		}
	}
	// A file of several blocks: in order, and a bad line named wherever
	// it falls, block edges included.
	b.Reset()
	const many = 60000
	for i := 1; i <= many; i++ {
		fmt.Fprintf(&b, `{"pid":"0010%08d","claims":{"name":"Nguyen Van An"}}`+"\n", i)
	}
	big := b.String()
	items, err = readBatch(strings.NewReader(big))
	if err != nil || len(items) != many || items[many-1].PID != fmt.Sprintf("0010%08d", many) || items[31000].PID != fmt.Sprintf("0010%08d", 31001) {
		t.Fatalf("%d items, %v", len(items), err)
	}
	bigLines := strings.Split(big, "\n")
	for _, n := range []int{1, 18396, 18397, 18398, 36793, many} {
		spoilt := append([]string{}, bigLines...)
		spoilt[n-1] = `{"pid":"0010900`
		if _, err := readBatch(strings.NewReader(strings.Join(spoilt, "\n"))); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("line %d:", n)) {
			t.Errorf("bad line %d of %d: %v", n, many, err)
		}
	}
	if _, err := readBatch(strings.NewReader(strings.Repeat("x", 3<<20))); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("a line of 3 MiB: %v", err)
	}
	for _, empty := range []string{"", "\n\n  \n"} {
		if _, err := readBatch(strings.NewReader(empty)); err == nil || !strings.Contains(err.Error(), "no records") {
			t.Errorf("%q: %v", empty, err)
		}
	}
}

// TestAppendLine: a result line is byte for byte what encoding/json writes.
func TestAppendLine(t *testing.T) {
	for _, l := range []BatchLine{
		{Line: 1, PID: "001090000001", Match: true, Fields: map[string]registry.Match{"name": registry.Normalized, "birth_date": registry.Exact, "sex": registry.Exact}},
		{Line: 22, PID: "00109", Error: "pid: must be 12 digits"},
		{Line: 3, PID: "x\"<é>\x01", Match: false, Fields: map[string]registry.Match{"phone": registry.Mismatch}},
		{Line: 4, PID: "001090000004", Fields: map[string]registry.Match{}},
	} {
		want, _ := json.Marshal(l)
		if got := appendLine(nil, l); string(got) != string(want)+"\n" {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

// TestFailStalled: a running job that shows no progress for StalledAfter
// (its service stopped) is marked failed; one making progress is not.
func TestFailStalled(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		s := &Service{db: db, now: func() time.Time { return now }}
		for id, beat := range map[string]time.Time{"stalled": now.Add(-StalledAfter - time.Second), "alive": now.Add(-time.Second)} {
			if _, err := db.ExecContext(ctx, `INSERT INTO verify_job (id, agency, purpose, state, total, done, matched, errors, created_at, error, heartbeat_at)
				VALUES ($1, 'bank', 'eKYC', 'running', 10, 5, 0, 0, $2, '', $2)`, id, beat); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.FailStalled(ctx); err != nil || n != 1 {
			t.Fatalf("FailStalled = %d, %v", n, err)
		}
		for id, want := range map[string]string{"stalled": "failed", "alive": "running"} {
			var state, reason string
			db.QueryRowContext(ctx, `SELECT state, error FROM verify_job WHERE id = $1`, id).Scan(&state, &reason)
			if state != want || (want == "failed" && !strings.Contains(reason, "submit the file again")) {
				t.Errorf("%s: %s %q", id, state, reason)
			}
		}
	})
}

// FuzzParseItemFast: whatever the fast reader of batch lines accepts,
// encoding/json (with unknown fields refused) reads the same.
func FuzzParseItemFast(f *testing.F) {
	for _, s := range []string{
		`{"pid":"001090000001","claims":{"name":"Nguyễn Văn An","birth_date":"1990-01-01"}}`,
		` { "claims" : { "sex" : "male" , "phone":"0912" } , "pid" : "x" } `,
		`{"pid":"a\"b"}`, `{"PID":"1"}`, `{"pid":null}`, `{"pid":"1","pid":"2"}`, `{"pid":"1"} x`, `{}`, `{"claims":{}}`,
		"{\"pid\":\"\xff\"}", `{"pid":"1","claims":{"name":"A","name":"B"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := parseItemFast(b)
		if !ok {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		var std registry.BatchItem
		if err := dec.Decode(&std); err != nil {
			t.Fatalf("%q: the fast reader accepted what encoding/json refuses: %v", b, err)
		}
		if len(bytes.TrimSpace(b[dec.InputOffset():])) > 0 {
			t.Fatalf("%q: the fast reader accepted text after the object", b)
		}
		if fast != std {
			t.Fatalf("%q: fast %+v, encoding/json %+v", b, fast, std)
		}
	})
}
