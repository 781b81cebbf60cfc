package card_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/pki"
)

type chip struct {
	groups map[int][]byte
	sod    []byte
	csca   pki.Authority
}

func makeChip(t *testing.T, now time.Time) chip {
	t.Helper()
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
	dg13, err := card.DG13([]card.DG13Field{{1, "001090123456"}, {2, "Nguyễn Văn An"}, {3, "17/05/1990"}, {4, "Nam"}, {5, "Việt Nam"},
		{6, "Kinh"}, {7, "Không"}, {9, "Phố Phan Đình Phùng 12, Phường Ba Đình, Thành phố Hà Nội"}, {11, "23/11/2026"}, {12, "17/05/2030"}})
	if err != nil {
		t.Fatal(err)
	}
	dg2, err := card.DG2(makeJPEG(60, 80, false))
	if err != nil {
		t.Fatal(err)
	}
	_, dg14, dg15, err := card.NewChipKeys()
	if err != nil {
		t.Fatal(err)
	}
	groups := map[int][]byte{1: card.DG1(lines), 2: dg2, 13: dg13, 14: dg14, 15: dg15}
	sod, err := card.SOD(ds, groups)
	if err != nil {
		t.Fatal(err)
	}
	return chip{groups: groups, sod: sod, csca: csca}
}

func failed(checks []card.Check) []string {
	var out []string
	for _, c := range checks {
		if !c.OK {
			out = append(out, c.Name)
		}
	}
	return out
}

// TestPassiveAuthentication: a card made for a person passes; one byte
// changed in any data group fails that group; a signer outside our CSCA
// fails the chain; an expired chain fails.
func TestPassiveAuthentication(t *testing.T) {
	now := time.Now()
	c := makeChip(t, now)
	checks, signer := card.PassiveAuth(c.sod, c.groups, []*x509Cert{c.csca.Cert}, now)
	if !card.Passed(checks) || signer == nil || signer.Subject.Country[0] != "VN" {
		t.Fatalf("a fresh card: %+v", checks)
	}
	for _, n := range []int{1, 2, 13} {
		changed := map[int][]byte{}
		for k, v := range c.groups {
			changed[k] = v
		}
		b := bytes.Clone(c.groups[n])
		b[len(b)/2] ^= 0x01
		changed[n] = b
		checks, _ := card.PassiveAuth(c.sod, changed, []*x509Cert{c.csca.Cert}, now)
		if f := failed(checks); len(f) != 1 || f[0] != "dg"+itoa(n) {
			t.Errorf("DG%d changed: failed %v", n, f)
		}
	}
	other := makeChip(t, now)
	checks, _ = card.PassiveAuth(other.sod, other.groups, []*x509Cert{c.csca.Cert}, now)
	if f := failed(checks); len(f) != 1 || f[0] != "chain" {
		t.Errorf("signed under another CSCA: failed %v", f)
	}
	// The chain holds as long as the longest card may be valid (63 years
	// for a card for life: pki.CardValidityMax), and not after.
	for _, years := range []int{10, 22, 40, 63} {
		checks, _ = card.PassiveAuth(c.sod, c.groups, []*x509Cert{c.csca.Cert}, now.AddDate(years, 0, 0))
		if f := failed(checks); len(f) != 0 {
			t.Errorf("%d years later: failed %v", years, f)
		}
	}
	checks, _ = card.PassiveAuth(c.sod, c.groups, []*x509Cert{c.csca.Cert}, now.AddDate(64, 0, 0))
	if f := failed(checks); len(f) != 1 || f[0] != "chain" {
		t.Errorf("64 years later: failed %v", f)
	}
	bad := bytes.Clone(c.sod)
	bad[len(bad)-10] ^= 0x01
	checks, _ = card.PassiveAuth(bad, c.groups, []*x509Cert{c.csca.Cert}, now)
	if card.Passed(checks) {
		t.Error("a SOD with a changed signature passed")
	}
}

// TestSODWithOpenSSL: an independent tool verifies our SOD against the
// CSCA certificate, and the data group hashes it holds are recomputed by
// openssl.
func TestSODWithOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed: the independent check is skipped")
	}
	c := makeChip(t, time.Now())
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// EF.SOD is tag 77 around the CMS: strip it.
	cms := c.sod[2:]
	if c.sod[1]&0x80 != 0 {
		cms = c.sod[2+int(c.sod[1]&0x7f):]
	}
	sod := write("sod.der", cms)
	ca := write("csca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.csca.Cert.Raw}))
	content := filepath.Join(dir, "lds.der")
	out, err := exec.Command("openssl", "cms", "-verify", "-inform", "DER", "-in", sod, "-CAfile", ca, "-purpose", "any", "-binary", "-out", content).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	dump, err := exec.Command("openssl", "asn1parse", "-inform", "DER", "-in", content).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl asn1parse: %v\n%s", err, dump)
	}
	inSOD := regexp.MustCompile(`OCTET STRING\s+\[HEX DUMP\]:([0-9A-F]+)`).FindAllStringSubmatch(string(dump), -1)
	if len(inSOD) != 5 {
		t.Fatalf("%d hashes in the security object:\n%s", len(inSOD), dump)
	}
	for i, n := range []int{1, 2, 13, 14, 15} {
		f := write("dg"+itoa(n)+".bin", c.groups[n])
		sum, err := exec.Command("openssl", "dgst", "-sha256", "-r", f).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.ToUpper(strings.Fields(string(sum))[0]); got != inSOD[i][1] {
			t.Errorf("DG%d: openssl computes %s, the SOD holds %s", n, got, inSOD[i][1])
		}
	}
	// DG15 holds a standard SubjectPublicKeyInfo openssl reads as P-256.
	dg15 := c.groups[15][2:]
	if c.groups[15][1]&0x80 != 0 {
		dg15 = c.groups[15][2+int(c.groups[15][1]&0x7f):]
	}
	if out, err := exec.Command("openssl", "pkey", "-pubin", "-inform", "DER", "-in", write("dg15.spki", dg15), "-noout", "-text").CombinedOutput(); err != nil || !strings.Contains(string(out), "P-256") {
		t.Errorf("openssl pkey on DG15: %v\n%s", err, out)
	}
	// And openssl refuses the SOD against another CSCA.
	other := makeChip(t, time.Now())
	ca2 := write("other.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.csca.Cert.Raw}))
	if out, err := exec.Command("openssl", "cms", "-verify", "-inform", "DER", "-in", sod, "-CAfile", ca2, "-purpose", "any", "-out", os.DevNull).CombinedOutput(); err == nil {
		t.Errorf("openssl verified our SOD against another CSCA:\n%s", out)
	}
}

type x509Cert = x509.Certificate

func itoa(n int) string { return strconv.Itoa(n) }

// FuzzPassiveAuth: whatever a reader sends, passive authentication answers
// without panicking, and never passes a SOD that is not ours.
func FuzzPassiveAuth(f *testing.F) {
	now := time.Now()
	csca, _ := pki.NewCSCA(now, "CSCA fuzz")
	ds, _ := csca.NewDocumentSigner(now, "DS fuzz")
	lines, _ := sample.Lines()
	dg1 := card.DG1(lines)
	sod, _ := card.SOD(ds, map[int][]byte{1: dg1})
	f.Add(sod, dg1)
	f.Add([]byte{0x77, 0x82, 0xff, 0xff}, []byte{0x61, 0x00})
	f.Fuzz(func(t *testing.T, sod, dg []byte) {
		checks, _ := card.PassiveAuth(sod, map[int][]byte{1: dg}, []*x509Cert{csca.Cert}, now)
		if card.Passed(checks) && !bytes.Equal(dg, dg1) {
			t.Fatalf("a changed DG1 passed: %x", dg)
		}
	})
}
