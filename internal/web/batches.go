package web

import (
	"net/http"

	"github.com/dancu-vn/dancu/internal/card"
)

// The production page: the approved applications of each commune waiting
// for a batch, with the deadline of the oldest, and the batches produced
// with how many of their cards have been handed over. Producing is the
// card centre's, through its API client (POST /api/v1/card-batches): the
// answer holds each chip's personalisation, which exists nowhere else, and
// a page must not be where it is dropped.

type awaitingItem struct {
	A        card.Awaiting
	DaysLeft int
	Urgency  string
}

type batchesData struct {
	Awaiting []awaitingItem
	Batches  []card.BatchSummary
}

func (s *Web) batchesPage(w http.ResponseWriter, r *http.Request) error {
	var d batchesData
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
	s.render(w, r, http.StatusOK, "batches", d)
	return nil
}
