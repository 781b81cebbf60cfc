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
	"slices"
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
	Errors     int        `json:"errors" doc:"Records that could not be checked (malformed)"`
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
// Lines of {"pid", "claims"}: the file is checked whole (a malformed line
// refuses the job and names the line), then the records are verified in
// the background; Job reports progress and BatchResults the answers.
func (s *Service) SubmitBatch(ctx context.Context, purpose string, in io.Reader) (Job, error) {
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
	var items []registry.BatchItem
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if len(items) == MaxBatch {
			return Job{}, errs.Field("", "a job holds at most %d records: split the file", MaxBatch)
		}
		var it registry.BatchItem
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&it); err != nil {
			return Job{}, errs.Field("", "line %d: not a {\"pid\", \"claims\"} object: %v", line, err)
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		return Job{}, errs.Field("", "line %d: %v", line+1, err)
	}
	if len(items) == 0 {
		return Job{}, errs.Field("", "no records")
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	job := Job{ID: uuid.Must(uuid.NewV7()).String(), Agency: ag.ID, Purpose: purpose, State: "running", Total: len(items), CreatedAt: now}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO verify_job (id, agency, purpose, state, total, done, matched, errors, created_at, error)
		VALUES ($1, $2, $3, 'running', $4, 0, 0, 0, $5, '')`, job.ID, job.Agency, purpose, job.Total, now); err != nil {
		return Job{}, err
	}
	go s.runBatch(context.WithoutCancel(ctx), job, items)
	return job, nil
}

// runBatch verifies the records chunk by chunk, keeping the results and
// the progress.
func (s *Service) runBatch(ctx context.Context, job Job, items []registry.BatchItem) {
	fail := func(err error) {
		s.db.ExecContext(ctx, `UPDATE verify_job SET state = 'failed', error = $1, finished_at = $2 WHERE id = $3`, err.Error(), s.now().UTC(), job.ID)
	}
	for seq, start := 0, 0; start < len(items); seq, start = seq+1, start+batchChunk {
		end := min(start+batchChunk, len(items))
		res, err := s.registry.CompareBatch(ctx, items[start:end], job.Purpose)
		if err != nil {
			fail(err)
			return
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		matched, bad := 0, 0
		for i, r := range res {
			l := BatchLine{Line: start + i + 1, PID: items[start+i].PID, Match: r.Match, Fields: r.Fields, Error: r.Error}
			if r.Match {
				matched++
			}
			if r.Error != "" {
				bad++
			}
			enc.Encode(l)
		}
		err = s.db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO verify_job_chunk (job_id, seq, results) VALUES ($1, $2, $3)`, job.ID, seq, buf.String()); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE verify_job SET done = done + $1, matched = matched + $2, errors = errors + $3 WHERE id = $4`,
				end-start, matched, bad, job.ID)
			return err
		})
		if err != nil {
			fail(err)
			return
		}
	}
	s.db.ExecContext(ctx, `UPDATE verify_job SET state = 'done', finished_at = $1 WHERE id = $2`, s.now().UTC(), job.ID)
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
	j, err := s.Job(ctx, id)
	if err != nil {
		return err
	}
	if j.State != "done" {
		return errs.E(errs.Conflict, "job %s is %s (%d of %d records done)", id, j.State, j.Done, j.Total)
	}
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
