package card_test

import (
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crypto/x509"

	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/pki"
)

// TestSODWithOpenSSLCRL: openssl, an independent verifier, accepts our SOD
// with `-crl_check` against the CSCA's current CRL, and refuses it once the
// CRL lists its Document Signer.
func TestSODWithOpenSSLCRL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed: the independent check is skipped")
	}
	now := time.Now().UTC()
	csca, err := pki.NewCSCA(now, "CSCA Viet Nam")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := csca.NewDocumentSigner(now, "Document Signer 001")
	if err != nil {
		t.Fatal(err)
	}
	lines, err := sample.Lines()
	if err != nil {
		t.Fatal(err)
	}
	sod, err := card.SOD(ds, map[int][]byte{1: card.DG1(lines)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cms := sod[2:]
	if sod[1]&0x80 != 0 {
		cms = sod[2+int(sod[1]&0x7f):]
	}
	in := write("sod.der", cms)
	verify := func(crl []byte) (string, error) {
		// openssl cms reads the CRLs from the trust file (-CAfile), beside
		// the CSCA certificate.
		ca := write("trust.pem", append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: csca.Cert.Raw}),
			pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl})...))
		out, err := exec.Command("openssl", "cms", "-verify", "-inform", "DER", "-in", in, "-CAfile", ca,
			"-crl_check", "-purpose", "any", "-binary", "-out", os.DevNull).CombinedOutput()
		return string(out), err
	}
	current, err := csca.CRL(now, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := verify(current); err != nil {
		t.Fatalf("openssl cms -verify -crl_check with the current CRL: %v\n%s", err, out)
	}
	// A CRL past its next update is not taken as "not revoked": the status
	// is unknown and the SOD refused, as README says a relying party must.
	expired, err := csca.CRL(now.Add(-pki.CRLValidity-time.Hour), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := verify(expired); err == nil || !strings.Contains(out, "expired") {
		t.Errorf("openssl accepted a SOD with an expired CRL: %v\n%s", err, out)
	}
	revoked, err := csca.CRL(now, 2, []x509.RevocationListEntry{{SerialNumber: ds.Cert.SerialNumber, RevocationTime: now, ReasonCode: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := verify(revoked); err == nil || !strings.Contains(out, "revoked") {
		t.Errorf("openssl accepted a SOD whose signer the CRL revokes: %v\n%s", err, out)
	}
}
