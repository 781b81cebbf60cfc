package web

import (
	"net/http"
	"strings"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/adminunit"

	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/errs"
)

// The production page: the approved applications of each commune waiting
// for a batch, with the deadline of the oldest, and the batches produced
// with how many of their cards have been handed over.

type awaitingItem struct {
	A        card.Awaiting
	DaysLeft int
	Urgency  string
}

type batchesData struct {
	Awaiting []awaitingItem
	Batches  []card.BatchSummary
	Errors   *formErrors
	Done     *card.Batch
}

func (s *Web) batchesPage(w http.ResponseWriter, r *http.Request) error {
	return s.showBatches(w, r, http.StatusOK, &formErrors{}, nil)
}

func (s *Web) showBatches(w http.ResponseWriter, r *http.Request, status int, f *formErrors, done *card.Batch) error {
	d := batchesData{Errors: f, Done: done}
	waiting, err := s.Cards.AwaitingProduction(r.Context())
	if err != nil {
		return err
	}
	for _, a := range waiting {
		due := s.Calendar.Deadline(a.Oldest, card.IssueDays)
		it := awaitingItem{A: a}
		it.DaysLeft, it.Urgency = s.deadline(&due, false)
		d.Awaiting = append(d.Awaiting, it)
	}
	if d.Batches, err = s.Cards.Batches(r.Context(), queueLimit); err != nil {
		return err
	}
	s.render(w, r, status, "batches", d)
	return nil
}

// batchProduce produces the approved applications of one commune as a
// batch. A commune with none waiting is refused rather than given an
// empty batch.
func (s *Web) batchProduce(w http.ResponseWriter, r *http.Request) error {
	commune := strings.TrimSpace(r.PostForm.Get("commune"))
	if commune == "" {
		return errs.Field("commune", "is required")
	}
	if _, err := s.Policy.RequireIn(r.Context(), access.WriteCitizen, access.Place{Scheme: adminunit.Scheme2025, Commune: commune}); err != nil {
		return err
	}
	waiting, err := s.Cards.AwaitingProduction(r.Context())
	if err != nil {
		return err
	}
	found := false
	for _, a := range waiting {
		found = found || a.Commune == commune
	}
	f := &formErrors{}
	if !found {
		f.add("form", tr(r, "batch.none"))
		return s.showBatches(w, r, http.StatusConflict, f, nil)
	}
	b, err := s.Cards.ProduceBatch(r.Context(), commune, 0)
	if err != nil {
		return err
	}
	return s.showBatches(w, r, http.StatusOK, f, &b)
}
