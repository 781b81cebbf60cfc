package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/errs"
)

// queueLimit is the most dossiers a queue page lists.
const queueLimit = 200

// queueItem is a dossier in a work queue with its days left.
type queueItem struct {
	D        dossier.Dossier
	Name     string // the service's name in the page's language
	DaysLeft int    // working days to the deadline; negative when overdue
	Urgency  string // overdue, soon, ok, or waiting (not yet received)
}

// serviceName is a service's name in a language.
func serviceName(lang, code string) string {
	e, ok := dossier.Entry(code)
	switch {
	case !ok:
		return code
	case lang == "en":
		return e.NameEN
	}
	return e.NameVI
}

func (s *Web) item(r *http.Request, d dossier.Dossier) queueItem {
	it := queueItem{D: d, Name: serviceName(langOf(r), d.Service)}
	it.DaysLeft, it.Urgency = s.deadline(d.DueAt, d.Overdue)
	return it
}

// deadline is the working days left to a statutory deadline (negative
// when overdue) and its urgency: overdue, soon (a working day or less),
// ok, or waiting (the deadline has not started).
func (s *Web) deadline(due *time.Time, overdue bool) (int, string) {
	if due == nil {
		return 0, "waiting"
	}
	now := s.Now()
	if overdue || now.After(*due) {
		return -s.Calendar.WorkingDaysBetween(*due, now), "overdue"
	}
	left := s.Calendar.WorkingDaysBetween(now, *due)
	if left <= 1 {
		return left, "soon"
	}
	return left, "ok"
}

var urgencyOrder = map[string]int{"overdue": 0, "soon": 1, "ok": 2, "waiting": 3}

type queueData struct {
	State       string
	OverdueOnly bool
	States      []dossier.State
	Items       []queueItem
	Counts      map[string]int
}

func (s *Web) dossierQueue(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	d := queueData{State: q.Get("state"), OverdueOnly: q.Get("overdue") == "1", Counts: map[string]int{},
		States: []dossier.State{dossier.Submitted, dossier.Received, dossier.InfoRequested}}
	if d.State != "" && !slices.Contains(d.States, dossier.State(d.State)) {
		return errs.Field("state", "must be submitted, received or info_requested")
	}
	list, err := s.Dossier.Queue(r.Context(), dossier.State(d.State), d.OverdueOnly, queueLimit)
	if err != nil {
		return err
	}
	for _, x := range list {
		it := s.item(r, x)
		d.Items = append(d.Items, it)
		d.Counts[it.Urgency]++
	}
	// Overdue first, then by days left, then the oldest submission.
	sort.SliceStable(d.Items, func(i, j int) bool {
		a, b := d.Items[i], d.Items[j]
		if urgencyOrder[a.Urgency] != urgencyOrder[b.Urgency] {
			return urgencyOrder[a.Urgency] < urgencyOrder[b.Urgency]
		}
		if a.DaysLeft != b.DaysLeft {
			return a.DaysLeft < b.DaysLeft
		}
		return a.D.SubmittedAt.Before(b.D.SubmittedAt)
	})
	s.render(w, r, http.StatusOK, "queue", d)
	return nil
}

type dossierData struct {
	It     queueItem
	Data   []kv
	Errors *formErrors
	Note   string
	Done   string // the action just done
}

type kv struct{ Key, Value string }

// formData lists a dossier's form as field and value, in a stable order.
func formData(v view, raw json.RawMessage) []kv {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]kv, 0, len(keys))
	for _, k := range keys {
		out = append(out, kv{k, v.show(k, m[k])})
	}
	return out
}

func (s *Web) dossierPage(w http.ResponseWriter, r *http.Request) error {
	d, err := s.Dossier.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "dossier", dossierData{It: s.item(r, d), Data: formData(s.view(r), d.Data), Errors: &formErrors{}, Done: r.URL.Query().Get("done")})
	return nil
}

// dossierAct receives a dossier, asks for information, or decides it.
func (s *Web) dossierAct(w http.ResponseWriter, r *http.Request) error {
	ctx, id := r.Context(), r.PathValue("id")
	action, note := r.PostForm.Get("action"), strings.TrimSpace(r.PostForm.Get("note"))
	f := &formErrors{}
	var err error
	switch action {
	case "receive":
		_, err = s.Dossier.Receive(ctx, id, note)
	case "request_info":
		if note == "" {
			f.add("note", tr(r, "dossier.note.info"))
			break
		}
		_, err = s.Dossier.RequestInfo(ctx, id, note)
	case "approve":
		_, err = s.Dossier.Decide(ctx, id, true, note)
	case "refuse":
		if note == "" {
			f.add("note", tr(r, "dossier.note.refuse"))
			break
		}
		_, err = s.Dossier.Decide(ctx, id, false, note)
	default:
		return errs.Field("action", "must be receive, request_info, approve or refuse")
	}
	if err == nil && !f.Any() {
		http.Redirect(w, r, Console+"/dossiers/"+id+"?done="+action, http.StatusSeeOther)
		return nil
	}
	if err != nil && !errs.Is(err, errs.Conflict) && !fieldErrors(r, f, err, map[string]string{"reasons": "note", "what": "note"}) {
		return err
	}
	if errs.Is(err, errs.Conflict) {
		msg := tr(r, "dossier.conflict")
		if e := (*errs.Error)(nil); errors.As(err, &e) && e.Msg != "" {
			msg = e.Msg
		}
		f.add("form", msg)
	}
	d, gerr := s.Dossier.Get(ctx, id)
	if gerr != nil {
		return gerr
	}
	status := http.StatusUnprocessableEntity
	if errs.Is(err, errs.Conflict) {
		status = http.StatusConflict
	}
	s.render(w, r, status, "dossier", dossierData{It: s.item(r, d), Data: formData(s.view(r), d.Data), Errors: f, Note: note})
	return nil
}

// resultData is a dossier's document for printing: the receipt (CT04),
// the request for information (CT05), the refusal (CT06) or the
// residence confirmation (CT07).
type resultData struct {
	It       queueItem
	Form     string // CT04, CT05, CT06, CT07 or "" (a plain result)
	Document *dossier.Confirmation
	Status   string       // of the confirmation: valid, superseded, …
	QR       template.URL // a data: URL of the PNG, which html/template would otherwise refuse
	Link     string       // the verification page the QR code opens
	Back     string       // the page the document is printed from
}

func (s *Web) dossierResult(w http.ResponseWriter, r *http.Request) error {
	d, err := s.Dossier.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	res, err := s.resultOf(r, d)
	if err != nil {
		return err
	}
	res.Back = Console + "/dossiers/" + d.ID
	s.render(w, r, http.StatusOK, "result", res)
	return nil
}

// resultOf is the printable document of a dossier in its state: the
// receipt (CT04), the request for information (CT05), the refusal (CT06)
// or the residence confirmation (CT07) with its QR code's short link.
func (s *Web) resultOf(r *http.Request, d dossier.Dossier) (resultData, error) {
	res := resultData{It: s.item(r, d)}
	switch d.State {
	case dossier.Received:
		res.Form = "CT04"
	case dossier.InfoRequested:
		res.Form = "CT05"
	case dossier.Refused:
		res.Form = "CT06"
	case dossier.Approved, dossier.Returned:
		if d.Service == "residence.confirmation" && d.Result != "" {
			v, err := s.Dossier.Verify(r.Context(), d.Result)
			if err != nil {
				return res, err
			}
			res.Form, res.Document, res.Status = "CT07", v.Document, v.Status
			code, err := s.Dossier.LinkOf(r.Context(), d)
			if err != nil {
				return res, err
			}
			res.Link = s.PublicURL + dossier.LinkPath + code
			png, err := dossier.QR(res.Link)
			if err != nil {
				return res, err
			}
			res.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		}
	default:
		return res, errs.E(errs.Conflict, "a %s dossier has no document", d.State)
	}
	return res, nil
}
