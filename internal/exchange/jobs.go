package exchange

import (
	"context"
	"errors"
	"sync"

	"github.com/dancu-vn/dancu/internal/errs"
)

// Limits of the batch verification jobs one process runs at once. Each
// holds its records in memory while it runs (up to MaxBatch), so their
// number is bounded per agency, so that one agency cannot take every
// slot, and in total.
const (
	MaxJobsPerAgency = 2
	MaxJobs          = 4
)

// JobRetryAfter is how long, in seconds, an agency refused a job slot is
// told to wait.
const JobRetryAfter = 30

// errStopped is why the jobs running when the service stops fail.
var errStopped = errors.New("interrupted (the service stopped while it ran): submit the file again")

// jobs are the batch jobs of this process: their slots, and the context
// and wait group that let Close stop them and wait for them.
type jobs struct {
	mu       sync.Mutex
	perAgent map[string]int
	total    int
	stopped  bool
	wg       sync.WaitGroup
	base     context.Context
	stop     context.CancelCauseFunc
}

func newJobs() *jobs {
	base, stop := context.WithCancelCause(context.Background())
	return &jobs{perAgent: map[string]int{}, base: base, stop: stop}
}

// acquire takes a job slot for agency, or refuses with TooMany when the
// agency or the process runs as many jobs as it may. The slot is held
// from the upload on, since reading the file is part of the work.
func (j *jobs) acquire(agency string) (release func(), err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case j.stopped:
		return nil, errs.E(errs.Unavailable, "the service is stopping: submit the file again later")
	case j.perAgent[agency] >= MaxJobsPerAgency:
		return nil, errs.E(errs.TooMany, "%s already runs %d batch jobs: wait for one to finish", agency, MaxJobsPerAgency)
	case j.total >= MaxJobs:
		return nil, errs.E(errs.TooMany, "the service runs as many batch jobs as it may (%d): try again later", MaxJobs)
	}
	j.perAgent[agency]++
	j.total++
	j.wg.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			j.mu.Lock()
			j.perAgent[agency]--
			if j.perAgent[agency] == 0 {
				delete(j.perAgent, agency)
			}
			j.total--
			j.mu.Unlock()
			j.wg.Done()
		})
	}, nil
}

// detach returns a context for a job's background work: the values of
// ctx (the acting agency), not its cancellation, and cancelled when the
// service stops.
func (j *jobs) detach(ctx context.Context) (context.Context, context.CancelCauseFunc) {
	jctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := context.AfterFunc(j.base, func() { cancel(context.Cause(j.base)) })
	return jctx, func(cause error) { stop(); cancel(cause) }
}

// Close stops the batch jobs running and waits for them: each is marked
// failed (submit it again) before Close returns, so the store may be
// closed after it. New jobs are refused from then on.
func (s *Service) Close() {
	s.jobs.mu.Lock()
	s.jobs.stopped = true
	s.jobs.mu.Unlock()
	s.jobs.stop(errStopped)
	s.jobs.wg.Wait()
}
