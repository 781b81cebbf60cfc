package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
)

// The work queues beside the dossiers: e-ID applications (level 1 online,
// level 2 at the counter) and card applications through production and
// delivery, each with its statutory deadline in working days.

type eidItem struct {
	A        eid.Application
	DaysLeft int
	Urgency  string
}

type eidQueueData struct {
	OverdueOnly bool
	Items       []eidItem
	Counts      map[string]int
	Errors      *formErrors
	Done        string
	Reason      string
}

func (s *Web) eidQueue(w http.ResponseWriter, r *http.Request) error {
	return s.showEIDQueue(w, r, http.StatusOK, eidQueueData{Errors: &formErrors{}, Done: r.URL.Query().Get("done")})
}

func (s *Web) showEIDQueue(w http.ResponseWriter, r *http.Request, status int, d eidQueueData) error {
	d.OverdueOnly = r.URL.Query().Get("overdue") == "1"
	list, err := s.EID.Queue(r.Context(), d.OverdueOnly, queueLimit)
	if err != nil {
		return err
	}
	d.Counts = map[string]int{}
	for _, a := range list {
		due := a.DueAt
		it := eidItem{A: a}
		it.DaysLeft, it.Urgency = s.deadline(&due, a.Overdue)
		d.Items = append(d.Items, it)
		d.Counts[it.Urgency]++
	}
	slices.SortStableFunc(d.Items, func(a, b eidItem) int {
		if x, y := urgencyOrder[a.Urgency], urgencyOrder[b.Urgency]; x != y {
			return x - y
		}
		return a.DaysLeft - b.DaysLeft
	})
	s.render(w, r, status, "eidqueue", d)
	return nil
}

// eidDecide approves or rejects an e-ID application from the queue.
func (s *Web) eidDecide(w http.ResponseWriter, r *http.Request) error {
	action, reason := r.PostForm.Get("action"), strings.TrimSpace(r.PostForm.Get("reason"))
	if action != "approve" && action != "reject" {
		return errs.Field("action", "must be approve or reject")
	}
	d := eidQueueData{Errors: &formErrors{}, Reason: reason}
	if action == "reject" && reason == "" {
		d.Errors.add("reason-"+r.PathValue("id"), tr(r, "work.reason.required"))
		return s.showEIDQueue(w, r, http.StatusUnprocessableEntity, d)
	}
	_, err := s.EID.Decide(r.Context(), r.PathValue("id"), action == "approve", reason)
	switch {
	case err == nil:
		http.Redirect(w, r, Console+"/eid?done="+action, http.StatusSeeOther)
		return nil
	case errs.Is(err, errs.Conflict):
		d.Errors.add("form", tr(r, "work.conflict"))
		return s.showEIDQueue(w, r, http.StatusConflict, d)
	}
	return err
}

type cardItem struct {
	A        card.QueueItem
	DaysLeft int
	Urgency  string
}

type cardQueueData struct {
	State  string
	States []string
	Items  []cardItem
	Counts map[string]int
	Errors *formErrors
	Done   string
}

func (s *Web) cardQueue(w http.ResponseWriter, r *http.Request) error {
	return s.showCardQueue(w, r, http.StatusOK, &formErrors{})
}

func (s *Web) showCardQueue(w http.ResponseWriter, r *http.Request, status int, f *formErrors) error {
	d := cardQueueData{State: r.URL.Query().Get("state"), States: card.QueueStates, Counts: map[string]int{}, Errors: f, Done: r.URL.Query().Get("done")}
	if d.State == "" {
		d.State = "submitted"
	}
	list, err := s.Cards.Queue(r.Context(), d.State, queueLimit)
	if err != nil {
		return err
	}
	for _, a := range list {
		it := cardItem{A: a, Urgency: "waiting"}
		if a.State != "produced" {
			due := s.Calendar.Deadline(a.SubmittedAt, card.IssueDays)
			it.DaysLeft, it.Urgency = s.deadline(&due, false)
		}
		d.Items = append(d.Items, it)
		d.Counts[it.Urgency]++
	}
	s.render(w, r, status, "cardqueue", d)
	return nil
}

// cardDecide approves or rejects a card application.
func (s *Web) cardDecide(w http.ResponseWriter, r *http.Request) error {
	action, note := r.PostForm.Get("action"), strings.TrimSpace(r.PostForm.Get("note"))
	if action != "approve" && action != "reject" {
		return errs.Field("action", "must be approve or reject")
	}
	f := &formErrors{}
	if action == "reject" && note == "" {
		f.add("note-"+r.PathValue("id"), tr(r, "work.reason.required"))
		return s.showCardQueue(w, r, http.StatusUnprocessableEntity, f)
	}
	_, err := s.Cards.Decide(r.Context(), r.PathValue("id"), action == "approve", note)
	switch {
	case err == nil:
		http.Redirect(w, r, Console+"/cards?done="+action, http.StatusSeeOther)
		return nil
	case errs.Is(err, errs.Conflict):
		f.add("form", tr(r, "work.conflict"))
		return s.showCardQueue(w, r, http.StatusConflict, f)
	}
	return err
}

// cardDelivered records that a produced card was handed to its holder.
func (s *Web) cardDelivered(w http.ResponseWriter, r *http.Request) error {
	err := s.Cards.Deliver(r.Context(), r.PathValue("id"))
	switch {
	case err == nil:
		http.Redirect(w, r, Console+"/cards?state=produced&done=delivered", http.StatusSeeOther)
		return nil
	case errs.Is(err, errs.Conflict):
		f := &formErrors{}
		f.add("form", tr(r, "work.conflict"))
		return s.showCardQueue(w, r, http.StatusConflict, f)
	}
	return err
}
