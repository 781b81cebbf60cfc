package bulk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/registry"
)

// Options tune an import.
type Options struct {
	Format    string           // "jsonl" (default) or "csv"
	Source    string           // named in every imported record's first revision
	BatchSize int              // rows per transaction; default 5000
	Workers   int              // validating goroutines; default GOMAXPROCS
	Rejects   io.Writer        // one JSON line per refused row; nil discards
	Progress  func(Progress)   // called after every batch
	Now       func() time.Time // default time.Now
}

// Progress is how far an import has come; the final one is its summary.
type Progress struct {
	Rows     int64         `json:"rows"`     // rows read
	Imported int64         `json:"imported"` // new records
	Existing int64         `json:"existing"` // numbers already registered: left alone
	Rejected int64         `json:"rejected"` // refused rows, in the reject file
	Bytes    int64         `json:"bytes"`    // input bytes read
	Elapsed  time.Duration `json:"elapsed"`
}

// Reject is one refused row: where, which field, why.
type Reject struct {
	Line   int64  `json:"line"`
	PID    string `json:"pid,omitempty"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// MaxLine is the longest input line accepted.
const MaxLine = 1 << 20

type rawRow struct {
	line   int64
	data   []byte   // JSON Lines
	fields []string // CSV
	err    error    // a row the reader could not even split
}

type chunk struct {
	rows []rawRow
	csv  *CSVReader // the header's column mapping, for CSV input
	out  []item
	done chan struct{}
}

type item struct {
	line   int64
	row    registry.ImportRow
	reject *Reject
}

const chunkRows = 512

// Import streams records from r into the registry. Every row is validated
// with the registry's rules; a refused row is written to opts.Rejects with
// its line, field and reason and never stops the import. Rows are written
// in batches, each in one transaction; a number already registered is left
// alone, so importing a file twice changes nothing and an import killed at
// any point completes when run again. Memory stays bounded whatever the
// size of the input.
func Import(ctx context.Context, svc *registry.Service, r io.Reader, opts Options) (Progress, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 5000
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Source == "" {
		opts.Source = "bulk import"
	}
	start := time.Now()
	var bytesRead atomic.Int64
	r = &countingReader{r: r, n: &bytesRead}

	ctx, cancel := context.WithCancel(ctx)
	work := make(chan *chunk, 2*opts.Workers)
	ordered := make(chan *chunk, 2*opts.Workers+2)
	readErr := make(chan error, 1)
	go func() {
		defer close(work)
		defer close(ordered)
		readErr <- readChunks(ctx, r, opts.Format, func(c *chunk) bool {
			select {
			case ordered <- c:
			case <-ctx.Done():
				return false
			}
			select {
			case work <- c:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	var wg sync.WaitGroup
	for i := 0; i < opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				prepare(svc, c, opts.Now())
			}
		}()
	}
	// On every return: stop the reader first (it may be blocked handing over
	// a chunk nobody will take), then wait for the workers.
	defer func() {
		cancel()
		wg.Wait()
	}()

	var p Progress
	rejects := json.NewEncoder(io.Discard)
	if opts.Rejects != nil {
		rejects = json.NewEncoder(opts.Rejects)
	}
	reject := func(rj *Reject) error {
		p.Rejected++
		return rejects.Encode(rj)
	}
	batch := make([]registry.ImportRow, 0, opts.BatchSize)
	lines := make(map[string]int64, opts.BatchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		fresh, err := svc.ImportBatch(ctx, batch, opts.Source)
		if err != nil {
			return err
		}
		for _, f := range fresh {
			if f {
				p.Imported++
			} else {
				p.Existing++
			}
		}
		batch = batch[:0]
		clear(lines)
		p.Bytes, p.Elapsed = bytesRead.Load(), time.Since(start)
		if opts.Progress != nil {
			opts.Progress(p)
		}
		return nil
	}
	for c := range ordered {
		select {
		case <-c.done:
		case <-ctx.Done():
			return p, ctx.Err()
		}
		for _, it := range c.out {
			p.Rows++
			if it.reject != nil {
				if err := reject(it.reject); err != nil {
					return p, fmt.Errorf("write rejects: %w", err)
				}
				continue
			}
			if first, dup := lines[it.row.PID]; dup {
				if err := reject(&Reject{Line: it.line, PID: it.row.PID, Field: "pid", Reason: fmt.Sprintf("repeats the personal ID number of line %d", first)}); err != nil {
					return p, err
				}
				continue
			}
			lines[it.row.PID] = it.line
			batch = append(batch, it.row)
			if len(batch) == opts.BatchSize {
				if err := flush(); err != nil {
					return p, err
				}
			}
		}
	}
	if err := <-readErr; err != nil {
		return p, err
	}
	if err := flush(); err != nil {
		return p, err
	}
	p.Bytes, p.Elapsed = bytesRead.Load(), time.Since(start)
	return p, nil
}

// prepare decodes and validates the rows of a chunk.
func prepare(svc *registry.Service, c *chunk, now time.Time) {
	defer close(c.done)
	c.out = make([]item, len(c.rows))
	for i, raw := range c.rows {
		it := &c.out[i]
		it.line = raw.line
		if raw.err != nil {
			it.reject = &Reject{Line: raw.line, Reason: raw.err.Error()}
			continue
		}
		var rec registry.LegacyRecord
		var err error
		if c.csv != nil {
			rec, err = c.csv.Record(raw.fields)
		} else {
			err = decodeJSON(raw.data, &rec)
		}
		if err == nil {
			it.row, err = svc.PrepareImport(&rec, now)
		}
		if err != nil {
			it.reject = rejectOf(raw.line, rec.PID, err)
		}
	}
}

func decodeJSON(b []byte, rec *registry.LegacyRecord) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(rec); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			// Embedded structs show in the path; the JSON has no such level.
			field := strings.TrimPrefix(strings.TrimPrefix(te.Field, "Details."), "Basis.")
			return errs.Field(field, "must be %s, not a JSON %s", te.Type, te.Value)
		}
		msg := strings.TrimPrefix(err.Error(), "json: ")
		if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
			return errs.Field(strings.Trim(f, `"`), "is not a field of a record")
		}
		return errs.Field("", "not a JSON record: %s", msg)
	}
	if dec.More() {
		return errs.Field("", "more than one JSON value on the line")
	}
	return nil
}

func rejectOf(line int64, pid string, err error) *Reject {
	var e *errs.Error
	if errors.As(err, &e) && e.Kind == errs.Invalid && len(e.Fields) > 0 {
		reasons := make([]string, 0, len(e.Fields))
		for _, f := range e.Fields[1:] {
			reasons = append(reasons, f.Field+": "+f.Reason)
		}
		reason := e.Fields[0].Reason
		if len(reasons) > 0 {
			reason += " (also " + strings.Join(reasons, "; ") + ")"
		}
		return &Reject{Line: line, PID: pid, Field: e.Fields[0].Field, Reason: reason}
	}
	return &Reject{Line: line, PID: pid, Reason: err.Error()}
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
