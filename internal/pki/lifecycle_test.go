package pki_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/pki"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

var t0 = time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)

func newStore(t testing.TB, db *sqldb.DB) *pki.Store {
	t.Helper()
	sealer, err := eid.NewSealer(bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return pki.NewStore(db, sealer)
}

// verifyAt checks ds's chain to the CSCAs at the time at, as a standard
// X.509 verifier does (the current time, no chain model).
func verifyAt(ds *x509.Certificate, cscas []*x509.Certificate, at time.Time) error {
	roots := x509.NewCertPool()
	for _, c := range cscas {
		roots.AddCert(c)
	}
	_, err := ds.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err
}

// TestLifetimes: the Document Signer signs for three months and carries
// that period; its certificate, and the CSCA's, stay valid for as long as
// the longest card it may sign: a card signed on the last day of the usage
// period verifies at the current time until its 22 years (a card with an
// expiry) and its 63 years (a card for life) are over.
func TestLifetimes(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s := newStore(t, db)
		csca, ds, err := s.Init(context.Background(), t0)
		if err != nil {
			t.Fatal(err)
		}
		from, to, ok := pki.UsagePeriod(ds.Cert)
		if !ok || !from.Equal(t0) || !to.Equal(t0.Add(pki.DSPrivateKeyUsage)) {
			t.Fatalf("DS usage period %s – %s (%v)", from, to, ok)
		}
		if _, cto, ok := pki.UsagePeriod(csca.Cert); !ok || !cto.Equal(t0.Add(pki.CSCAPrivateKeyUsage)) {
			t.Errorf("CSCA usage period ends %s (%v)", cto, ok)
		}
		signed := to // the last day the key signs
		cscas := []*x509.Certificate{csca.Cert}
		for _, years := range []int{0, 10, 20, 22, 40, 63} {
			at := signed.AddDate(years, 0, 0)
			if err := verifyAt(ds.Cert, cscas, at); err != nil {
				t.Errorf("a card signed at the end of the usage period, %d years on: %v", years, err)
			}
		}
		if err := verifyAt(ds.Cert, cscas, signed.AddDate(64, 0, 0)); err == nil {
			t.Error("the DS certificate outlives the longest card by a year")
		}
		if ds.Cert.NotAfter.After(csca.Cert.NotAfter) {
			t.Error("the DS certificate outlives its CSCA")
		}
		if ds.Cert.KeyUsage != x509.KeyUsageDigitalSignature || len(ds.Cert.ExtKeyUsage) != 0 || ds.Cert.IsCA {
			t.Errorf("DS key usage %v, EKU %v, CA %v", ds.Cert.KeyUsage, ds.Cert.ExtKeyUsage, ds.Cert.IsCA)
		}
	})
}

// TestMaintainRotatesAndRenews: serve's regular maintenance replaces the
// Document Signer two weeks before its usage period ends, and reissues the
// CRL a month before its next update; at every boundary the old signer's
// cards still verify.
func TestMaintainRotatesAndRenews(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		csca, first, err := s.Init(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.Maintain(ctx, t0.Add(time.Hour))
		if err != nil || m.RotatedDS != nil || m.CRLNumber != 0 {
			t.Fatalf("maintenance just after init: %+v, %v", m, err)
		}
		rotateAt := t0.Add(pki.DSPrivateKeyUsage - pki.DSRotateBefore)
		if m, _ := s.Maintain(ctx, rotateAt.Add(-time.Minute)); m.RotatedDS != nil {
			t.Fatal("rotated before two weeks ahead of the end")
		}
		m, err = s.Maintain(ctx, rotateAt)
		if err != nil || m.RotatedDS == nil {
			t.Fatalf("no rotation two weeks before the end: %+v, %v", m, err)
		}
		now, err := s.Active(ctx, "ds")
		if err != nil || now.Cert.SerialNumber.Cmp(m.RotatedDS.SerialNumber) != 0 {
			t.Fatalf("the active DS is not the new one: %v", err)
		}
		if err := verifyAt(first.Cert, []*x509.Certificate{csca.Cert}, rotateAt.AddDate(20, 0, 0)); err != nil {
			t.Errorf("the first signer's cards after its rotation: %v", err)
		}
		// A second process maintaining at the same moment does nothing more.
		if m, _ := s.Maintain(ctx, rotateAt); m.RotatedDS != nil {
			t.Error("rotated twice")
		}

		// The CRL: reissued from 30 days before its next update. The first
		// (next update t0 + 90 days) was reissued by the maintenance a
		// minute before the rotation, 76 days on; the next is due 60 days
		// after that.
		renewAt := rotateAt.Add(-time.Minute).Add(pki.CRLValidity - pki.CRLRenewBefore)
		m, _ = s.Maintain(ctx, renewAt.Add(-time.Minute))
		if m.CRLNumber != 0 {
			t.Fatal("CRL reissued too early")
		}
		m, err = s.Maintain(ctx, renewAt)
		if err != nil || m.CRLNumber != 3 || !m.NextUpdate.Equal(renewAt.Add(pki.CRLValidity)) {
			t.Fatalf("CRL at renewal: %+v, %v", m, err)
		}
		der, _ := s.CRL(ctx)
		crl, err := x509.ParseRevocationList(der)
		if err != nil || crl.CheckSignatureFrom(csca.Cert) != nil || !crl.NextUpdate.After(renewAt.Add(pki.CRLRenewBefore)) {
			t.Errorf("the renewed CRL: %v", err)
		}
		// Over ten years of daily maintenance the CRL is never expired.
		for at := renewAt; at.Before(renewAt.AddDate(10, 0, 0)); at = at.Add(24 * time.Hour) {
			m, err := s.Maintain(ctx, at)
			if err != nil {
				t.Fatal(err)
			}
			if !m.NextUpdate.After(at.Add(pki.CRLRenewBefore - 24*time.Hour)) {
				t.Fatalf("at %s the CRL's next update is %s", at, m.NextUpdate)
			}
		}
	})
}

// TestRevokeDS: a revoked Document Signer is on every CRL from then on;
// revoking the active one replaces it at once.
func TestRevokeDS(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		_, first, err := s.Init(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		serial := fmt.Sprintf("%x", first.Cert.SerialNumber)
		at := t0.Add(10 * 24 * time.Hour)
		_, err = s.RevokeDS(ctx, serial, "stolen", "", at)
		if errs.KindOf(err) != errs.Invalid {
			t.Errorf("an unknown reason: %v", err)
		}
		_, err = s.RevokeDS(ctx, "abcdef", "keyCompromise", "", at)
		if errs.KindOf(err) != errs.NotFound {
			t.Errorf("an unknown serial: %v", err)
		}
		m, err := s.RevokeDS(ctx, strings.ToUpper(serial), "keyCompromise", "HSM lost", at)
		if err != nil || m.RotatedDS == nil || m.CRLNumber != 2 {
			t.Fatalf("RevokeDS: %+v, %v", m, err)
		}
		active, _ := s.Active(ctx, "ds")
		if active.Cert.SerialNumber.Cmp(first.Cert.SerialNumber) == 0 {
			t.Fatal("the revoked DS still signs")
		}
		der, _ := s.CRL(ctx)
		crl, _ := x509.ParseRevocationList(der)
		if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(first.Cert.SerialNumber) != 0 ||
			crl.RevokedCertificateEntries[0].ReasonCode != 1 || !crl.RevokedCertificateEntries[0].RevocationTime.Equal(at) {
			t.Errorf("CRL entries %+v", crl.RevokedCertificateEntries)
		}
		if _, err := s.RevokeDS(ctx, serial, "keyCompromise", "", at); errs.KindOf(err) != errs.Conflict {
			t.Errorf("revoking twice: %v", err)
		}
		// Later CRLs keep the entry.
		if _, err := s.Maintain(ctx, at.Add(pki.CRLValidity)); err != nil {
			t.Fatal(err)
		}
		der, _ = s.CRL(ctx)
		crl, _ = x509.ParseRevocationList(der)
		if len(crl.RevokedCertificateEntries) != 1 {
			t.Errorf("a later CRL lists %d revocations", len(crl.RevokedCertificateEntries))
		}
		rev, err := s.Revoked(ctx)
		if err != nil || !rev[serial].Equal(at) {
			t.Errorf("Revoked = %v, %v", rev, err)
		}
	})
}

// TestOpenSSLProfile: openssl, which nobody here wrote, reads the
// extensions of the CSCA and the DS as the ICAO 9303-12 profile wants them
// (a test table: extension → which certificate has it, critical or not),
// and checks a signature chain with the CRL.
func TestOpenSSLProfile(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	db := sqldbtest.Open(t, "sqlite")
	s := newStore(t, db)
	// openssl checks at the real time: the authority is made now.
	csca, ds, err := s.Init(context.Background(), time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, der []byte, kind string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, der, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("openssl", kind, "-inform", "DER", "-in", p, "-out", p+".pem").CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %s: %v %s", kind, err, out)
		}
		return p + ".pem"
	}
	cscaPEM, dsPEM := write("csca.der", csca.Cert.Raw, "x509"), write("ds.der", ds.Cert.Raw, "x509")
	// A renewal's link certificate, checked like the others.
	next, link, err := s.RotateCSCA(context.Background(), time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	linkPEM := write("link.der", link.Raw, "x509")
	text := func(p string) string {
		out, err := exec.Command("openssl", "x509", "-in", p, "-noout", "-text").CombinedOutput()
		if err != nil {
			t.Fatalf("openssl x509 -text: %v %s", err, out)
		}
		return string(out)
	}
	profile := []struct {
		cert, want string
	}{
		{cscaPEM, "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign"},
		{cscaPEM, "X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0"},
		{cscaPEM, "X509v3 Private Key Usage Period"},
		{cscaPEM, "X509v3 Subject Key Identifier"},
		{dsPEM, "X509v3 Key Usage: critical\n                Digital Signature"},
		{dsPEM, "X509v3 Private Key Usage Period"},
		{dsPEM, "X509v3 Authority Key Identifier"},
		{dsPEM, "Issuer: C = VN"},
		{linkPEM, "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign"},
		{linkPEM, "X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0"},
		{linkPEM, "X509v3 Private Key Usage Period"},
		{linkPEM, "X509v3 Authority Key Identifier"},
	}
	texts := map[string]string{cscaPEM: text(cscaPEM), dsPEM: text(dsPEM), linkPEM: text(linkPEM)}
	for _, p := range profile {
		if !strings.Contains(texts[p.cert], p.want) {
			t.Errorf("%s lacks %q:\n%s", filepath.Base(p.cert), p.want, texts[p.cert])
		}
	}
	if strings.Contains(texts[dsPEM], "Extended Key Usage") {
		t.Error("the DS has an extended key usage")
	}
	// openssl verifies the link certificate with the old CSCA.
	if out, err := exec.Command("openssl", "verify", "-partial_chain", "-CAfile", cscaPEM, linkPEM).CombinedOutput(); err != nil || !strings.Contains(string(out), ": OK") {
		t.Errorf("openssl verify of the link certificate: %v %s", err, out)
	}
	_ = next
	// openssl verifies the DS against the CSCA with the CRL.
	der, _ := s.CRLOf(context.Background(), fmt.Sprintf("%x", csca.Cert.SubjectKeyId))
	crlPEM := write("csca.crl", der, "crl")
	out, err := exec.Command("openssl", "verify", "-crl_check", "-CAfile", cscaPEM, "-CRLfile", crlPEM, dsPEM).CombinedOutput()
	if err != nil || !strings.Contains(string(out), ": OK") {
		t.Errorf("openssl verify -crl_check: %v %s", err, out)
	}
	// And refuses it once it is revoked.
	if _, err := s.RevokeDS(context.Background(), fmt.Sprintf("%x", ds.Cert.SerialNumber), "keyCompromise", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	der, _ = s.CRLOf(context.Background(), fmt.Sprintf("%x", csca.Cert.SubjectKeyId))
	crlPEM = write("csca2.crl", der, "crl")
	out, err = exec.Command("openssl", "verify", "-crl_check", "-CAfile", cscaPEM, "-CRLfile", crlPEM, dsPEM).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "revoked") {
		t.Errorf("openssl verify of a revoked DS: %v %s", err, out)
	}
}

// TestRotateCSCA: a renewed CSCA comes with a link certificate, so a
// relying party that trusts only the old CSCA reaches the new signers;
// cards signed under the old CSCA still verify for their whole validity,
// and revoking one of the old signers lands on the old CSCA's CRL, which
// maintenance keeps current.
func TestRotateCSCA(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		old, ds1, err := s.Init(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		at := t0.AddDate(2, 6, 0)
		next, link, err := s.RotateCSCA(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		if link.CheckSignatureFrom(old.Cert) != nil || !bytes.Equal(link.SubjectKeyId, next.Cert.SubjectKeyId) ||
			!bytes.Equal(link.AuthorityKeyId, old.Cert.SubjectKeyId) || !link.NotAfter.Equal(old.Cert.NotAfter) {
			t.Fatalf("link certificate %+v", link)
		}
		ds2, err := s.Active(ctx, "ds")
		if err != nil || !bytes.Equal(ds2.Cert.AuthorityKeyId, next.Cert.SubjectKeyId) {
			t.Fatalf("the new signer is not under the new CSCA: %v", err)
		}
		// A relying party that trusts only the old CSCA: the link, verified
		// with the old CSCA, vouches for the new CSCA's key (path length 0
		// keeps the link out of document chains, as 9303-12 has it); it then
		// trusts the new CSCA and verifies the new signer's cards.
		roots := x509.NewCertPool()
		roots.AddCert(old.Cert)
		if _, err := link.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: at.AddDate(1, 0, 0), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			t.Fatalf("the link certificate against the old CSCA: %v", err)
		}
		if !link.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(next.Cert.PublicKey) {
			t.Fatal("the link certificate vouches for another key")
		}
		if err := verifyAt(ds2.Cert, []*x509.Certificate{next.Cert}, at.AddDate(1, 0, 0)); err != nil {
			t.Errorf("the new signer under the new CSCA: %v", err)
		}
		// The old signer's cards, 22 and 40 years on, against both CSCAs.
		cscas, _ := s.CSCACertificates(ctx)
		for _, years := range []int{0, 22, 40} {
			if err := verifyAt(ds1.Cert, cscas, at.AddDate(years, 0, 0)); err != nil {
				t.Errorf("an old signer's card %d years after the renewal: %v", years, err)
			}
		}
		// Revoking the old signer: on the old CSCA's CRL, not the new one's.
		if _, err := s.RevokeDS(ctx, fmt.Sprintf("%x", ds1.Cert.SerialNumber), "superseded", "", at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		oldCRL, err := s.CRLOf(ctx, fmt.Sprintf("%x", old.Cert.SubjectKeyId))
		if err != nil {
			t.Fatal(err)
		}
		crl, _ := x509.ParseRevocationList(oldCRL)
		if crl.CheckSignatureFrom(old.Cert) != nil || len(crl.RevokedCertificateEntries) != 1 {
			t.Errorf("the old CSCA's CRL: %d entries", len(crl.RevokedCertificateEntries))
		}
		newDER, _ := s.CRL(ctx)
		newCRL, _ := x509.ParseRevocationList(newDER)
		if newCRL.CheckSignatureFrom(next.Cert) != nil || len(newCRL.RevokedCertificateEntries) != 0 {
			t.Errorf("the new CSCA's CRL: %d entries", len(newCRL.RevokedCertificateEntries))
		}
		// Maintenance keeps both CRLs current.
		later := at.Add(pki.CRLValidity)
		if _, err := s.Maintain(ctx, later); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*x509.Certificate{old.Cert, next.Cert} {
			der, err := s.CRLOf(ctx, fmt.Sprintf("%x", c.SubjectKeyId))
			if err != nil {
				t.Fatal(err)
			}
			crl, _ := x509.ParseRevocationList(der)
			if crl.CheckSignatureFrom(c) != nil || !crl.NextUpdate.After(later) {
				t.Errorf("CRL of %x after maintenance: next update %s", c.SubjectKeyId, crl.NextUpdate)
			}
		}
	})
}

// TestMasterList: the CSCA Master List is a CMS SignedData of content type
// id-icao-cscaMasterList holding every CSCA and link certificate, signed by
// a Master List Signer the active CSCA certified; openssl, which nobody
// here wrote, verifies it.
func TestMasterList(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		now := time.Now().UTC()
		if _, _, err := s.Init(ctx, now.AddDate(-2, 0, 0)); err != nil {
			t.Fatal(err)
		}
		next, _, err := s.RotateCSCA(ctx, now.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		der, err := s.MasterList(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		p7, err := pkcs7.Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := p7.Verify(); err != nil {
			t.Fatalf("master list signature: %v", err)
		}
		if p7.GetOnlySigner().CheckSignatureFrom(next.Cert) != nil {
			t.Error("the master list signer is not certified by the active CSCA")
		}
		certs, err := pki.ParseMasterList(p7.Content)
		if err != nil || len(certs) != 3 {
			t.Fatalf("master list holds %d certificates: %v", len(certs), err)
		}
		if _, err := pki.ParseMasterList(append(bytes.Clone(p7.Content), 0)); err == nil {
			t.Error("trailing bytes accepted")
		}
		if _, err := exec.LookPath("openssl"); err != nil || engineOf(db) != "sqlite" {
			return
		}
		dir := t.TempDir()
		ml, ca := filepath.Join(dir, "ml.der"), filepath.Join(dir, "csca.pem")
		os.WriteFile(ml, der, 0o600)
		os.WriteFile(ca, pemCert(next.Cert), 0o600)
		out, err := exec.Command("openssl", "cms", "-verify", "-inform", "DER", "-in", ml, "-CAfile", ca, "-purpose", "any", "-out", filepath.Join(dir, "content")).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Verification successful") {
			t.Errorf("openssl cms -verify of the master list: %v %s", err, out)
		}
		out, _ = exec.Command("openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", ml).CombinedOutput()
		if !strings.Contains(string(out), "2.23.136.1.1.2") {
			t.Errorf("content type not id-icao-cscaMasterList:\n%s", out)
		}
	})
}

func engineOf(db *sqldb.DB) string { return db.Dialect.String() }

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
