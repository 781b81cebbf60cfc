package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/dancu-vn/dancu/internal/events"
	"github.com/dancu-vn/dancu/internal/exchange"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sso"
)

// ---- Relying parties ----

type clientsData struct {
	Clients []sso.Client
	Values  map[string]string
	Errors  *formErrors
	Types   []string
	// Created and Secret are set only in the answer to the POST that
	// registered the client: the secret is never stored, so never shown
	// again.
	Created *sso.Client
	Secret  string
}

var clientForm = []string{"id", "name", "type", "auth_method", "redirect_uris", "post_logout_redirect_uris", "scopes", "min_level", "backchannel_logout_uri"}

func (s *Web) clientsView(r *http.Request, d *clientsData) error {
	cs, err := s.SSO.Clients(r.Context())
	d.Clients, d.Types = cs, []string{"web", "native", "service"}
	return err
}

func (s *Web) adminClients(w http.ResponseWriter, r *http.Request) error {
	d := clientsData{Values: map[string]string{"type": "web", "min_level": "1"}, Errors: &formErrors{}}
	if err := s.clientsView(r, &d); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "admin-clients", d)
	return nil
}

func (s *Web) adminClientCreate(w http.ResponseWriter, r *http.Request) error {
	d := clientsData{Values: map[string]string{}, Errors: &formErrors{}}
	for _, k := range clientForm {
		d.Values[k] = strings.TrimSpace(r.PostForm.Get(k))
	}
	v := d.Values
	in := sso.NewClient{ID: v["id"], Name: v["name"], Type: v["type"], AuthMethod: v["auth_method"],
		RedirectURIs: lines(v["redirect_uris"]), LogoutURIs: lines(v["post_logout_redirect_uris"]), Scopes: strings.Fields(v["scopes"]),
		MinLevel: atoi(v["min_level"]), Backchannel: v["backchannel_logout_uri"]}
	c, secret, err := s.SSO.CreateClient(r.Context(), in)
	if err != nil {
		if !serviceErrors(r, d.Errors, err, nil, clientForm...) {
			return err
		}
		if err := s.clientsView(r, &d); err != nil {
			return err
		}
		s.render(w, r, http.StatusUnprocessableEntity, "admin-clients", d)
		return nil
	}
	// Answered here, not redirected: the secret exists only in this
	// answer (the guard sends it with no-store).
	d = clientsData{Values: map[string]string{"type": "web", "min_level": "1"}, Errors: &formErrors{}, Created: &c, Secret: secret}
	if err := s.clientsView(r, &d); err != nil {
		return err
	}
	s.render(w, r, http.StatusCreated, "admin-clients", d)
	return nil
}

// ---- Member agencies ----

type agenciesData struct {
	Agencies []exchange.Agency
	// Candidates are the service clients not yet members: an agency's ID
	// is its client's.
	Candidates []sso.Client
	Values     map[string]string
	Checked    map[string]bool // "services.verify", "fields.name"
	Errors     *formErrors
	Done       string
	Kinds      []string
	Services   []string
	Fields     []string
}

var agencyForm = []string{"id", "name", "kind", "services", "fields", "purposes", "rate_per_second"}

func (s *Web) agenciesView(r *http.Request, d *agenciesData) error {
	as, err := s.Exchange.Agencies(r.Context())
	if err != nil {
		return err
	}
	cs, err := s.SSO.Clients(r.Context())
	if err != nil {
		return err
	}
	member := map[string]bool{}
	for _, a := range as {
		member[a.ID] = true
	}
	for _, c := range cs {
		if c.AppType == "service" && !member[c.ID] {
			d.Candidates = append(d.Candidates, c)
		}
	}
	d.Agencies, d.Kinds, d.Services, d.Fields = as, exchange.Kinds, sortedKeys(exchange.Services), registry.QueryableFields()
	return nil
}

func (s *Web) adminAgencies(w http.ResponseWriter, r *http.Request) error {
	d := agenciesData{Values: map[string]string{"rate_per_second": "100", "kind": "ministry"}, Checked: map[string]bool{"services.verify": true},
		Errors: &formErrors{}, Done: done(r, "created", "disabled", "enabled")}
	if err := s.agenciesView(r, &d); err != nil {
		return err
	}
	if id := r.URL.Query().Get("id"); id != "" {
		d.Values["id"] = id
	}
	s.render(w, r, http.StatusOK, "admin-agencies", d)
	return nil
}

func (s *Web) adminAgencyCreate(w http.ResponseWriter, r *http.Request) error {
	d := agenciesData{Values: map[string]string{}, Checked: map[string]bool{}, Errors: &formErrors{}}
	for _, k := range []string{"id", "name", "kind", "purposes", "rate_per_second"} {
		d.Values[k] = strings.TrimSpace(r.PostForm.Get(k))
	}
	in := exchange.Agency{ID: d.Values["id"], Name: d.Values["name"], Kind: d.Values["kind"], Purposes: lines(d.Values["purposes"]),
		RatePerSec: atoi(d.Values["rate_per_second"])}
	if x := d.Values["rate_per_second"]; x != "" && (in.RatePerSec <= 0 || atoiErr(x)) {
		d.Errors.add("rate_per_second", tr(r, "admin.agency.rate.invalid"))
	}
	for _, sv := range r.PostForm["services"] {
		in.Services = append(in.Services, sv)
		d.Checked["services."+sv] = true
	}
	for _, f := range r.PostForm["fields"] {
		in.Fields = append(in.Fields, f)
		d.Checked["fields."+f] = true
	}
	if !d.Errors.Any() {
		_, err := s.Exchange.CreateAgency(r.Context(), in)
		if err == nil {
			http.Redirect(w, r, adminBase+"/agencies?done=created", http.StatusSeeOther)
			return nil
		}
		if !serviceErrors(r, d.Errors, err, nil, agencyForm...) {
			return err
		}
	}
	if err := s.agenciesView(r, &d); err != nil {
		return err
	}
	s.render(w, r, http.StatusUnprocessableEntity, "admin-agencies", d)
	return nil
}

func atoiErr(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return true
		}
	}
	return false
}

func (s *Web) adminAgencyDisabled(w http.ResponseWriter, r *http.Request) error {
	off := r.PostForm.Get("disabled") == "1"
	if err := s.Exchange.SetDisabled(r.Context(), r.PathValue("id"), off); err != nil {
		return err
	}
	http.Redirect(w, r, adminBase+"/agencies?done="+map[bool]string{true: "disabled", false: "enabled"}[off], http.StatusSeeOther)
	return nil
}

// ---- Subscriptions and dead letters ----

type subsData struct {
	Agencies []string // in order, each with its subscriptions
	By       map[string][]events.SubscriptionStatus
	Open     *events.SubscriptionStatus // the one whose dead letters are listed
	Dead     []events.DeadLetter
	Done     string
}

func (s *Web) adminSubscriptions(w http.ResponseWriter, r *http.Request) error {
	subs, err := s.Events.AllSubscriptions(r.Context())
	if err != nil {
		return err
	}
	d := subsData{By: map[string][]events.SubscriptionStatus{}, Done: done(r, "retried")}
	open := r.URL.Query().Get("sub")
	for i, x := range subs {
		if !slices.Contains(d.Agencies, x.Agency) {
			d.Agencies = append(d.Agencies, x.Agency)
		}
		d.By[x.Agency] = append(d.By[x.Agency], x)
		if x.ID == open {
			d.Open = &subs[i]
		}
	}
	if d.Open != nil {
		if d.Dead, err = s.Events.SubscriptionDeadLetters(r.Context(), d.Open.ID); err != nil {
			return err
		}
	}
	s.render(w, r, http.StatusOK, "admin-subs", d)
	return nil
}

func (s *Web) adminRetry(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.Events.RetryDeadLetter(r.Context(), id, r.PostForm.Get("event")); err != nil {
		return err
	}
	http.Redirect(w, r, adminBase+"/subscriptions?done=retried&sub="+urlEscape(id), http.StatusSeeOther)
	return nil
}
