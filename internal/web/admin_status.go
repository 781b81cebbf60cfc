package web

import (
	"net/http"
	"time"

	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
)

// warnBefore is how long before a certificate's end the PKI page warns.
const warnBefore = 30 * 24 * time.Hour

type certRow struct {
	Role, Subject, Serial string
	Active                bool
	NotBefore, NotAfter   time.Time
	// State: "ok", "soon" (within 30 days of its end) or "expired".
	State string
	Days  int
}

type pkiData struct {
	Certs                  []certRow
	HasCRL                 bool
	CRLNumber              string
	ThisUpdate, NextUpdate time.Time
	CRLLate                bool
	Warnings               int
}

func (s *Web) adminPKI(w http.ResponseWriter, r *http.Request) error {
	if s.PKI == nil {
		return errs.E(errs.Unavailable, "no PKI store")
	}
	auths, crl, err := s.PKI.Status(r.Context())
	if err != nil {
		return err
	}
	now := s.Now()
	var d pkiData
	for _, a := range auths {
		c := certRow{Role: a.Role, Subject: a.Cert.Subject.CommonName, Serial: a.Cert.SerialNumber.Text(16), Active: a.Active,
			NotBefore: a.Cert.NotBefore, NotAfter: a.Cert.NotAfter, State: "ok"}
		c.State, c.Days = certState(now, c.NotAfter)
		// A retired certificate that expires is expected; the active ones
		// are what needs doing something about.
		if c.State != "ok" && c.Active {
			d.Warnings++
		}
		d.Certs = append(d.Certs, c)
	}
	if crl != nil {
		d.HasCRL, d.CRLNumber, d.ThisUpdate, d.NextUpdate = true, crl.Number, crl.ThisUpdate, crl.NextUpdate
		if crlLate(now, crl.NextUpdate) {
			d.CRLLate = true
			d.Warnings++
		}
	}
	s.render(w, r, http.StatusOK, "admin-pki", d)
	return nil
}

// certState is how a certificate ending at notAfter stands at now: "ok",
// "soon" (within warnBefore of its end) or "expired", and the whole days
// left.
func certState(now, notAfter time.Time) (string, int) {
	left := notAfter.Sub(now)
	days := int(left.Hours() / 24)
	switch {
	case left <= 0:
		return "expired", days
	case left < warnBefore:
		return "soon", days
	}
	return "ok", days
}

// crlLate reports whether a CRL's next update has passed: relying parties
// holding it now treat it as stale.
func crlLate(now, next time.Time) bool { return !now.Before(next) }

type auditData struct {
	Sealed    bool
	Size      int64
	At        time.Time
	Witnesses []witnessRow
	Report    *audit.Report
	Checked   time.Time
}

type witnessRow struct {
	Name string
	Size int64
}

// auditGrace is how long an event may wait to be sealed before the
// verification reports it, as `dancu audit verify` by default.
const auditGrace = 10 * time.Minute

func (s *Web) auditView(r *http.Request) (auditData, error) {
	var d auditData
	if s.Chain == nil {
		return d, errs.E(errs.Unavailable, "no audit chain")
	}
	cp, err := s.Chain.LatestCheckpoint(r.Context())
	switch {
	case err == nil:
		d.Sealed, d.Size, d.At = true, cp.Size, cp.At
	case !errs.Is(err, errs.NotFound):
		return d, err
	}
	pub := s.Chain.Published()
	for _, name := range sortedKeys(pub) {
		d.Witnesses = append(d.Witnesses, witnessRow{name, pub[name]})
	}
	return d, nil
}

func (s *Web) adminAudit(w http.ResponseWriter, r *http.Request) error {
	d, err := s.auditView(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "admin-audit", d)
	return nil
}

// adminAuditVerify runs the verification of the whole log now and shows
// its report (not kept: the next look runs it again).
func (s *Web) adminAuditVerify(w http.ResponseWriter, r *http.Request) error {
	d, err := s.auditView(r)
	if err != nil {
		return err
	}
	rep, err := s.Chain.Verify(r.Context(), audit.VerifyOptions{Grace: auditGrace})
	if err != nil {
		return err
	}
	d.Report, d.Checked = &rep, s.Now()
	s.render(w, r, http.StatusOK, "admin-audit", d)
	return nil
}
