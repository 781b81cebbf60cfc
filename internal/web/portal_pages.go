package web

import (
	"encoding/json"
	"net/http"

	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/exchange"
	"github.com/dancu-vn/dancu/internal/locale"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sso"
)

// portalRoutes are the citizen portal's pages. A citizen's pages act only
// on the citizen the session names: no page takes another person's number.
func (s *Web) portalRoutes() []Page {
	p := Portal
	return []Page{
		{Method: "GET", Path: p + "/{$}", who: anyone, h: s.portalHome},
		{Method: "GET", Path: p + "/login", who: anyone, h: s.portalLogin},
		{Method: "GET", Path: p + "/callback", who: anyone, h: s.portalCallback},
		{Method: "POST", Path: p + "/language", who: anyone, h: s.portalLanguage},
		// Anyone: a session whose tokens died meanwhile still signs out of
		// the provider.
		{Method: "POST", Path: p + "/logout", who: anyone, h: s.portalLogout},
		// Getting an account, and back into it: nobody is signed in yet.
		{Method: "GET", Path: p + "/apply", who: anyone, h: s.portalApplyForm},
		{Method: "POST", Path: p + "/apply", who: anyone, h: s.portalApply, upload: maxPortrait},
		{Method: "GET", Path: p + "/apply/follow", who: anyone, h: s.portalFollow},
		{Method: "GET", Path: p + "/apply/{id}", who: anyone, h: s.portalReceipt},
		{Method: "GET", Path: p + "/activate", who: anyone, h: s.portalActivateForm},
		{Method: "POST", Path: p + "/activate/code", who: anyone, h: s.portalActivationCode},
		{Method: "POST", Path: p + "/activate", who: anyone, h: s.portalActivate},
		{Method: "GET", Path: p + "/recover", who: anyone, h: s.portalRecoverForm},
		{Method: "POST", Path: p + "/recover", who: anyone, h: s.portalRecover},
		{Method: "GET", Path: p + "/me", who: citizens, h: s.portalMe},
		// Procedures: the catalog is anyone's, the rest the citizen's own.
		{Method: "GET", Path: p + "/services", who: anyone, h: s.portalServices},
		{Method: "GET", Path: p + "/services/{code}", who: citizens, h: s.portalServiceForm},
		{Method: "POST", Path: p + "/services/{code}", who: citizens, h: s.portalSubmit},
		{Method: "GET", Path: p + "/dossiers", who: citizens, h: s.portalDossiers},
		{Method: "GET", Path: p + "/dossiers/{id}", who: citizens, h: s.portalDossier},
		{Method: "POST", Path: p + "/dossiers/{id}/supplement", who: citizens, h: s.portalSupplement},
		{Method: "POST", Path: p + "/dossiers/{id}/withdraw", who: citizens, h: s.portalWithdrawDossier},
		{Method: "GET", Path: p + "/notifications", who: citizens, h: s.portalNotifications},
		{Method: "GET", Path: p + "/dependants", who: citizens, h: s.portalDependants},
		{Method: "POST", Path: p + "/dependants", who: citizens, h: s.portalAttach},
		{Method: "GET", Path: p + "/dependants/{pid}", who: citizens, h: s.portalDependant},
		{Method: "GET", Path: p + "/access", who: citizens, h: s.portalAccess},
		{Method: "GET", Path: p + "/access/{id}/proof", who: citizens, h: s.portalProof},
		{Method: "GET", Path: p + "/consents", who: citizens, h: s.portalConsents},
		{Method: "POST", Path: p + "/consents/{client}", who: citizens, h: s.portalWithdraw},
		{Method: "POST", Path: p + "/agency-consents/{agency}", who: citizens, h: s.portalWithdrawAgency},
		{Method: "GET", Path: p + "/documents", who: citizens, h: s.portalDocuments},
		{Method: "POST", Path: p + "/documents/confirmation", who: citizens, h: s.portalConfirmation},
		{Method: "GET", Path: p + "/documents/{id}", who: citizens, h: s.portalDocument},
		{Method: "GET", Path: p + "/security", who: citizens, h: s.portalSecurity},
		{Method: "POST", Path: p + "/security/passkeys/{id}", who: citizens, h: s.portalRemovePasskey},
		{Method: "POST", Path: p + "/security/passkeys/options", who: citizens, h: s.portalPasskeyOptions},
		{Method: "POST", Path: p + "/security/passkeys", who: citizens, h: s.portalPasskeyAdd},
		{Method: "POST", Path: p + "/security/logout-everywhere", who: citizens, h: s.portalLogoutEverywhere},
		{Method: "POST", Path: p + "/security/lock", who: citizens, h: s.portalLock},
		{Method: "POST", Path: p + "/security/password", who: citizens, h: s.portalPassword},
		{Method: "POST", Path: p + "/security/recovery-codes", who: citizens, h: s.portalNewCodes},
		{Method: "POST", Path: p + "/security/totp", who: citizens, h: s.portalTOTPStart},
		{Method: "POST", Path: p + "/security/totp/confirm", who: citizens, h: s.portalTOTPConfirm},
		{Method: "POST", Path: p + "/security/totp/off", who: citizens, h: s.portalTOTPOff},
	}
}

func (s *Web) portalHome(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "portal-home", nil)
	return nil
}

func (s *Web) portalLanguage(w http.ResponseWriter, r *http.Request) error {
	lang := locale.Parse(r.PostForm.Get("lang"))
	if lang == "" {
		return errs.Field("lang", "must be vi or en")
	}
	s.setCookie(w, r, langCookie, lang, 365*24*3600)
	http.Redirect(w, r, safePortalNext(r.PostForm.Get("next")), http.StatusSeeOther)
	return nil
}

type portalMeData struct {
	Sections []section
	Account  eid.Account
	Cards    []card.Card
}

// portalMe is "my data": the registry's record of the citizen, as the
// officers' record page groups it, their cards and their e-ID account.
// Each read is in the citizen's own access log, as theirs.
func (s *Web) portalMe(w http.ResponseWriter, r *http.Request) error {
	a := citizen(r)
	c, err := s.Registry.GetOnBehalf(r.Context(), a.ID, "the citizen's own record")
	if err != nil {
		return err
	}
	d := portalMeData{Sections: s.citizenSections(r, c)}
	if d.Account, err = s.EID.Account(r.Context(), a.ID); err != nil {
		return err
	}
	if d.Cards, err = s.Cards.OfPerson(r.Context(), a.ID); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "portal-me", d)
	return nil
}

// citizenSections groups a record as the officers' record page does, for
// a citizen's page: other people's records are the officers', so no link
// and no other person's number.
func (s *Web) citizenSections(r *http.Request, c registry.Citizen) []section {
	sections := s.recordSections(r, c)
	for i := range sections {
		for j := range sections[i].Rows {
			if row := &sections[i].Rows[j]; row.Href != "" {
				row.Href, row.Note = "", ""
			}
		}
	}
	return sections
}

// portalAccess is "who accessed my data": every read and change of the
// citizen's record, by the officer's unit (not the officer), the agency
// or the service, with the purpose and the time.
func (s *Web) portalAccess(w http.ResponseWriter, r *http.Request) error {
	seen, err := audit.Mine(r.Context(), s.DB, audit.Filter{Before: r.URL.Query().Get("before"), Limit: 50}, s.Access.UnitOf)
	if err != nil {
		return err
	}
	d := map[string]any{"Seen": seen}
	if len(seen) == 50 {
		d["Next"] = seen[len(seen)-1].Event.ID
	}
	s.render(w, r, http.StatusOK, "portal-access", d)
	return nil
}

func (s *Web) portalConsents(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.SSO.Consents(r.Context(), citizen(r).ID)
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []sso.Consent{}
	}
	all, err := s.Exchange.Consents(r.Context())
	if err != nil {
		return err
	}
	// The agencies' consents in force: withdrawn or expired ones share
	// nothing any more.
	now := s.Now()
	var agencies []exchange.AgencyConsent
	for _, c := range all {
		if c.RevokedAt == nil && now.Before(c.ExpiresAt) {
			agencies = append(agencies, c)
		}
	}
	s.render(w, r, http.StatusOK, "portal-consents", map[string]any{"Consents": cs, "Agencies": agencies, "Done": r.URL.Query().Get("done") == "withdrawn"})
	return nil
}

// portalWithdrawAgency withdraws a consent given to a member agency (a
// bank, a telecom): its scoped queries of the citizen stop.
func (s *Web) portalWithdrawAgency(w http.ResponseWriter, r *http.Request) error {
	if err := s.Exchange.RevokeConsent(r.Context(), r.PathValue("agency")); err != nil {
		return err
	}
	http.Redirect(w, r, Portal+"/consents?done=withdrawn", http.StatusSeeOther)
	return nil
}

// portalWithdraw withdraws a consent given to a relying party: its next
// login asks again, and its tokens end.
func (s *Web) portalWithdraw(w http.ResponseWriter, r *http.Request) error {
	if err := s.SSO.RevokeConsent(r.Context(), citizen(r).ID, r.PathValue("client")); err != nil {
		return err
	}
	http.Redirect(w, r, Portal+"/consents?done=withdrawn", http.StatusSeeOther)
	return nil
}

// portalProof shows the inclusion proof of one entry of the citizen's own
// access log, and gives it as JSON to keep (?format=json).
func (s *Web) portalProof(w http.ResponseWriter, r *http.Request) error {
	p, ev, err := s.Chain.ProveMine(r.Context(), r.PathValue("id"))
	if errs.Is(err, errs.Unavailable) {
		s.render(w, r, http.StatusServiceUnavailable, "portal-proof", map[string]any{"Pending": true})
		return nil
	}
	if err != nil {
		return err
	}
	key, err := s.Chain.VerifierKey(r.Context())
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "json" {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="dancu-access-proof-`+p.EventID+`.json"`)
		return json.NewEncoder(w).Encode(struct {
			audit.InclusionProof
			VerifierKey string `json:"verifier_key"`
		}{p, key})
	}
	who := ""
	switch {
	case ev.ActorID == citizen(r).ID:
	case ev.Kind == "officer":
		who = s.Access.UnitOf(r.Context(), ev.ActorID)
	case ev.Kind != "citizen":
		who = ev.Name
	}
	s.render(w, r, http.StatusOK, "portal-proof", map[string]any{"P": p, "E": ev, "Who": who, "Key": key})
	return nil
}
