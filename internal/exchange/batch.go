package exchange

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/registry"
)

// Batch limits.
const (
	MaxBatch   = 500_000 // records per job
	batchChunk = 5_000   // records per transaction and result chunk
)

// Job is a batch verification.
type Job struct {
	ID         string     `json:"id"`
	Agency     string     `json:"agency"`
	Purpose    string     `json:"purpose"`
	State      string     `json:"state" enum:"running,done,failed"`
	Total      int        `json:"total"`
	Done       int        `json:"done"`
	Matched    int        `json:"matched"`
	Errors     int        `json:"errors" doc:"Records that could not be checked: malformed, or throttled after repeated mismatches of their number"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Error      string     `json:"error,omitempty"`
}

// BatchLine is one result line: the input line, the number and the answer.
type BatchLine struct {
	Line   int                       `json:"line"`
	PID    string                    `json:"pid"`
	Match  bool                      `json:"match"`
	Fields map[string]registry.Match `json:"fields,omitempty"`
	Error  string                    `json:"error,omitempty"`
}

// SubmitBatch starts a batch verification for the acting agency from JSON
// Lines of {"pid", "claims"}, read from body as it arrives: the file is
// checked whole (a malformed line refuses the job and names the line),
// then the records are verified in the background; Job reports progress
// and BatchResults the answers. An agency runs at most MaxJobsPerAgency
// jobs at once and the process MaxJobs, uploads included; beyond, the job
// is refused with TooMany.
func (s *Service) SubmitBatch(ctx context.Context, purpose string, body io.Reader) (Job, error) {
	a, err := access.Require(ctx, access.VerifyCitizen)
	if err != nil {
		return Job{}, err
	}
	ag, err := s.agency(ctx, a.ID)
	if err != nil {
		return Job{}, errs.E(errs.Forbidden, "only member agencies verify")
	}
	if !slices.Contains(ag.Purposes, purpose) {
		return Job{}, errs.E(errs.Forbidden, "%q is not a purpose declared for %s", purpose, ag.ID)
	}
	release, err := s.jobs.acquire(ag.ID)
	if err != nil {
		return Job{}, err
	}
	started := false
	defer func() {
		if !started {
			release()
		}
	}()
	items, err := readBatch(body)
	if err != nil {
		return Job{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	job := Job{ID: uuid.Must(uuid.NewV7()).String(), Agency: ag.ID, Purpose: purpose, State: "running", Total: len(items), CreatedAt: now}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO verify_job (id, agency, purpose, state, total, done, matched, errors, created_at, error, heartbeat_at)
		VALUES ($1, $2, $3, 'running', $4, 0, 0, 0, $5, '', $5)`, job.ID, job.Agency, purpose, job.Total, now); err != nil {
		return Job{}, err
	}
	jctx, cancel := s.jobs.detach(ctx)
	started = true
	go func() {
		defer release()
		defer cancel(nil)
		s.runBatch(jctx, job, items)
	}()
	return job, nil
}

// readBatch reads JSON Lines of {"pid", "claims"}, one object a line, as
// they arrive: only the records are kept, never the file. A malformed
// line refuses the whole file and is named (the first such line). Lines
// are decoded in blocks of about a megabyte, side by side, a few blocks
// at a time; a line may not be longer than a block.
func readBatch(r io.Reader) ([]registry.BatchItem, error) {
	type block struct {
		text      []byte
		firstLine int
		items     []registry.BatchItem
		err       error
		done      chan struct{}
	}
	const blockSize = 1 << 20
	br := bufio.NewReaderSize(r, blockSize)
	blocks := make(chan *block, runtime.GOMAXPROCS(0))
	readErr := make(chan error, 1)
	go func() {
		defer close(blocks)
		line := 1
		for {
			// A block is whole lines: up to blockSize, then to the end of
			// the line it cuts.
			buf := make([]byte, blockSize)
			n, err := io.ReadFull(br, buf)
			buf = buf[:n]
			if err == nil {
				rest, rerr := br.ReadSlice('\n')
				buf = append(buf, rest...)
				if rerr != nil && !errors.Is(rerr, io.EOF) {
					if errors.Is(rerr, bufio.ErrBufferFull) {
						rerr = errs.Field("", "line %d: longer than %d bytes", line+bytes.Count(buf, []byte{'\n'}), blockSize)
					}
					readErr <- rerr
					return
				}
			} else if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				readErr <- err
				return
			}
			if len(buf) == 0 {
				readErr <- nil
				return
			}
			b := &block{text: buf, firstLine: line, done: make(chan struct{})}
			line += bytes.Count(buf, []byte{'\n'})
			go func() {
				defer close(b.done)
				b.items, b.err = decodeLines(b.text, b.firstLine)
				b.text = nil
			}()
			blocks <- b
		}
	}()
	var items []registry.BatchItem
	var failed error
	for b := range blocks {
		<-b.done
		if failed != nil {
			continue // drain: the reader stops at the end of the body
		}
		if b.err != nil {
			failed = b.err
			continue
		}
		items = append(items, b.items...)
		if len(items) > MaxBatch {
			failed = errs.Field("", "a job holds at most %d records: split the file", MaxBatch)
		}
	}
	if err := <-readErr; failed == nil && err != nil {
		failed = err
	}
	if failed != nil {
		return nil, failed
	}
	if len(items) == 0 {
		return nil, errs.Field("", "no records")
	}
	return items, nil
}

// decodeLines decodes JSON Lines text whose first line is number first:
// the common shape without reflection (parseItemFast), anything else with
// encoding/json, which names what is wrong.
func decodeLines(text []byte, first int) ([]registry.BatchItem, error) {
	var out []registry.BatchItem
	for n := first; len(text) > 0; n++ {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		it, ok := parseItemFast(line)
		if !ok {
			dec := json.NewDecoder(bytes.NewReader(line))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&it); err != nil {
				return nil, errs.Field("", "line %d: not a {\"pid\", \"claims\"} object: %v", n, err)
			}
			if len(bytes.TrimSpace(line[dec.InputOffset():])) > 0 {
				return nil, errs.Field("", "line %d: one object a line", n)
			}
		}
		out = append(out, it)
		if len(out) > MaxBatch {
			return nil, errs.Field("", "a job holds at most %d records: split the file", MaxBatch)
		}
	}
	return out, nil
}

// batchWorkers verify chunks of one job side by side: while one stores
// its results, another reads and compares.
const batchWorkers = 4

// runBatch verifies the records chunk by chunk, keeping the results and
// the progress. Chunks are stored under their sequence number, so the
// results read back in input order whichever worker finishes first. The
// whole job is recorded as one group access event naming every person
// checked, written while the chunks are verified and committed before the
// job is marked done: its answers cannot be read before that.
func (s *Service) runBatch(ctx context.Context, job Job, items []registry.BatchItem) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	recorded := make(chan error, 1)
	go func() {
		recorded <- s.registry.RecordBatch(ctx, items, job.Purpose, "batch verification job "+job.ID)
	}()
	seqs := make(chan int)
	tally := &mismatchTally{n: map[string]int{}}
	var wg sync.WaitGroup
	for w := 0; w < batchWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := range seqs {
				if err := s.batchChunk(ctx, job, items, seq, tally); err != nil {
					cancel(err)
				}
			}
		}()
	}
	for seq := 0; seq*batchChunk < len(items) && ctx.Err() == nil; seq++ {
		seqs <- seq
	}
	close(seqs)
	wg.Wait()
	if err := <-recorded; err != nil {
		cancel(err)
	}
	bg := context.WithoutCancel(ctx)
	if err := context.Cause(ctx); err != nil {
		s.db.ExecContext(bg, `UPDATE verify_job SET state = 'failed', error = $1, finished_at = $2 WHERE id = $3 AND state = 'running'`, err.Error(), s.now().UTC(), job.ID)
		return
	}
	s.db.ExecContext(bg, `UPDATE verify_job SET state = 'done', finished_at = $1 WHERE id = $2 AND state = 'running'`, s.now().UTC(), job.ID)
}

// batchChunk verifies chunk seq of a job and stores its results. A number
// that did not match MismatchLimit times within MismatchWindow (by single
// verifications, earlier jobs or this one) is not checked again: its
// record answers "throttled", as a single verification would answer 429;
// within a chunk, a number is checked at most as often as it may still
// mismatch.
func (s *Service) batchChunk(ctx context.Context, job Job, items []registry.BatchItem, seq int, tally *mismatchTally) error {
	start := seq * batchChunk
	end := min(start+batchChunk, len(items))
	chunk := items[start:end]
	now := s.now().UTC()
	recent, err := s.recentMismatches(ctx, chunk, now)
	if err != nil {
		return err
	}
	throttled := make([]bool, len(chunk))
	check := make([]registry.BatchItem, 0, len(chunk))
	seen := map[string]int{} // checks of a number in this chunk: each may be a mismatch
	for i, it := range chunk {
		if tally.count(it.PID)+recent[it.PID]+seen[it.PID] >= MismatchLimit {
			throttled[i] = true
			continue
		}
		seen[it.PID]++
		check = append(check, it)
	}
	answers, err := s.registry.CompareMany(ctx, check)
	if err != nil {
		return err
	}
	res := make([]registry.BatchResult, len(chunk))
	var mismatched []string
	for i, k := 0, 0; i < len(chunk); i++ {
		if throttled[i] {
			res[i].Error = "throttled: too many verifications of this number did not match recently"
			continue
		}
		res[i] = answers[k]
		k++
		if res[i].Error == "" && !res[i].Match {
			mismatched = append(mismatched, chunk[i].PID)
			tally.add(chunk[i].PID)
		}
	}
	var buf []byte
	matched, bad := 0, 0
	for i, r := range res {
		buf = appendLine(buf, BatchLine{Line: start + i + 1, PID: items[start+i].PID, Match: r.Match, Fields: r.Fields, Error: r.Error})
		if r.Match {
			matched++
		}
		if r.Error != "" {
			bad++
		}
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO verify_job_chunk (job_id, seq, results) VALUES ($1, $2, $3)`, job.ID, seq, string(buf)); err != nil {
			return err
		}
		for _, pid := range mismatched {
			if _, err := tx.ExecContext(ctx, `INSERT INTO verify_mismatch (pid, agency, at) VALUES ($1, $2, $3)`, pid, job.Agency, now); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE verify_job SET done = done + $1, matched = matched + $2, errors = errors + $3, heartbeat_at = $4 WHERE id = $5`,
			end-start, matched, bad, s.now().UTC(), job.ID)
		return err
	})
}

// Job returns a batch job to its agency.
func (s *Service) Job(ctx context.Context, id string) (Job, error) {
	a, err := access.Require(ctx, access.VerifyCitizen)
	if err != nil {
		return Job{}, err
	}
	var j Job
	var finished sql.NullTime
	err = s.db.QueryRowContext(ctx, `SELECT id, agency, purpose, state, total, done, matched, errors, created_at, finished_at, error FROM verify_job WHERE id = $1`, id).
		Scan(&j.ID, &j.Agency, &j.Purpose, &j.State, &j.Total, &j.Done, &j.Matched, &j.Errors, &j.CreatedAt, &finished, &j.Error)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && j.Agency != a.ID && a.Kind != actor.System) {
		return Job{}, errs.E(errs.NotFound, "no job %s", id)
	}
	if finished.Valid {
		t := finished.Time.UTC()
		j.FinishedAt = &t
	}
	j.CreatedAt = j.CreatedAt.UTC()
	return j, err
}

// BatchResults writes a finished job's answers as JSON Lines, in the order
// of the input.
func (s *Service) BatchResults(ctx context.Context, id string, w io.Writer) error {
	write, err := s.OpenResults(ctx, id)
	if err != nil {
		return err
	}
	return write(w)
}

// OpenResults checks that the job is the caller's and finished, and
// returns what writes its answers, chunk by chunk as the store gives them
// (never the whole result in memory), so that an answer can start only
// once nothing can refuse it.
func (s *Service) OpenResults(ctx context.Context, id string) (func(w io.Writer) error, error) {
	j, err := s.Job(ctx, id)
	if err != nil {
		return nil, err
	}
	if j.State != "done" {
		return nil, errs.E(errs.Conflict, "job %s is %s (%d of %d records done)", id, j.State, j.Done, j.Total)
	}
	return func(w io.Writer) error { return s.writeResults(ctx, id, w) }, nil
}

func (s *Service) writeResults(ctx context.Context, id string, w io.Writer) error {
	rows, err := s.db.QueryContext(ctx, `SELECT results FROM verify_job_chunk WHERE job_id = $1 ORDER BY seq`, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var chunk string
		if err := rows.Scan(&chunk); err != nil {
			return err
		}
		if _, err := io.WriteString(w, chunk); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
	}
	return rows.Err()
}

// appendLine writes l as one JSON line, as encoding/json would (fields in
// order, map keys sorted), without reflection: a batch writes one per
// record.
func appendLine(b []byte, l BatchLine) []byte {
	b = append(b, `{"line":`...)
	b = strconv.AppendInt(b, int64(l.Line), 10)
	b = append(b, `,"pid":`...)
	b = appendString(b, l.PID)
	b = append(b, `,"match":`...)
	b = strconv.AppendBool(b, l.Match)
	if len(l.Fields) > 0 {
		b = append(b, `,"fields":{`...)
		for i, f := range slices.Sorted(maps.Keys(l.Fields)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f)
			b = append(b, ':')
			b = appendString(b, string(l.Fields[f]))
		}
		b = append(b, '}')
	}
	if l.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, l.Error)
	}
	return append(b, "}\n"...)
}

// appendString writes s as a JSON string.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			q, _ := json.Marshal(s) // the rare case: let encoding/json escape it
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// mismatchTally counts the mismatches of each number within one job.
type mismatchTally struct {
	mu sync.Mutex
	n  map[string]int
}

func (t *mismatchTally) count(pid string) int { t.mu.Lock(); defer t.mu.Unlock(); return t.n[pid] }
func (t *mismatchTally) add(pid string)       { t.mu.Lock(); t.n[pid]++; t.mu.Unlock() }

// recentMismatches counts, per number of the chunk, the mismatches recorded
// within MismatchWindow before now.
func (s *Service) recentMismatches(ctx context.Context, chunk []registry.BatchItem, now time.Time) (map[string]int, error) {
	pids := make([]string, len(chunk))
	for i, it := range chunk {
		pids[i] = it.PID
	}
	cond, arg := s.db.Dialect.AnyOf("pid", 1, pids)
	rows, err := s.db.QueryContext(ctx, `SELECT pid, COUNT(*) FROM verify_mismatch WHERE `+cond+` AND at > $2 GROUP BY pid`, arg, now.Add(-MismatchWindow))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var pid string
		var n int
		if err := rows.Scan(&pid, &n); err != nil {
			return nil, err
		}
		out[pid] = n
	}
	return out, rows.Err()
}

// StalledAfter is how long a running job may show no progress before it is
// taken as interrupted.
const StalledAfter = 2 * time.Minute

// FailStalled marks failed the running jobs that made no progress for
// StalledAfter (their service stopped): their agencies submit them again.
// It returns how many it marked.
func (s *Service) FailStalled(ctx context.Context) (int, error) {
	now := s.now().UTC()
	res, err := s.db.ExecContext(ctx, `UPDATE verify_job SET state = 'failed', finished_at = $1,
		error = 'interrupted (the service stopped while it ran): submit the file again'
		WHERE state = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < $2)`, now, now.Add(-StalledAfter))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
