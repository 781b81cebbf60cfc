package card_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/pki"
)

// testSigner is a signer certified by csca with the key usage and
// extended key usage given: a Document Signer when ku is digitalSignature
// alone and eku is empty, something else otherwise.
func testSigner(t *testing.T, csca pki.Authority, ku x509.KeyUsage, eku []x509.ExtKeyUsage) pki.Authority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()),
		Subject:   pkix.Name{Country: []string{"VN"}, CommonName: "Test signer"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: ku, ExtKeyUsage: eku,
		BasicConstraintsValid: true, AuthorityKeyId: csca.Cert.SubjectKeyId}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, csca.Cert, key.Public(), csca.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return pki.Authority{Cert: cert, Key: key}
}

// securityObject is the LDS security object a real SOD signs.
func securityObject(t *testing.T, sod []byte) []byte {
	t.Helper()
	p7, err := pkcs7.Parse(cmsOf(sod))
	if err != nil {
		t.Fatal(err)
	}
	return p7.Content
}

// cmsOf takes tag 77 off an EF.SOD.
func cmsOf(sod []byte) []byte {
	if sod[1]&0x80 == 0 {
		return sod[2:]
	}
	return sod[2+int(sod[1]&0x7f):]
}

// wrap77 puts CMS bytes into tag 77 with a definite length.
func wrap77(cms []byte) []byte {
	n := len(cms)
	return append([]byte{0x77, 0x82, byte(n >> 8), byte(n)}, cms...)
}

// signAs signs content as CMS SignedData with eContentType ctype, as a
// SOD but free of its rules, for tampered SODs.
func signAs(t *testing.T, ds pki.Authority, content []byte, ctype asn1.ObjectIdentifier) []byte {
	t.Helper()
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		t.Fatal(err)
	}
	sd.GetSignedData().ContentInfo.ContentType = ctype
	sd.GetSignedData().Version = 3
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(ds.Cert, ds.Key, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return wrap77(der)
}

// TestStrictPassiveAuthentication: each departure from ICAO 9303's SOD and
// Document Signer profile fails passive authentication with its own code,
// and only that code: another eContentType, bytes after the SOD's DER or
// after the security object, a signer with an extended key usage or
// another key usage, no data group sent, no DG1, a changed or an unhashed
// data group.
func TestStrictPassiveAuthentication(t *testing.T) {
	now := time.Now()
	c := makeChip(t, now)
	cscas := []*x509.Certificate{c.csca.Cert}
	codes := func(sod []byte, groups map[int][]byte) []string {
		checks, _ := card.PassiveAuth(sod, groups, cscas, now)
		return card.FailedCodes(checks)
	}
	if f := codes(c.sod, c.groups); len(f) != 0 {
		t.Fatalf("our own chip fails %v", f)
	}
	ds := testSigner(t, c.csca, x509.KeyUsageDigitalSignature, nil)
	if f := codes(signAs(t, ds, securityObject(t, c.sod), asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}), c.groups); len(f) != 0 {
		t.Fatalf("the test signer's faithful SOD fails %v", f)
	}
	eku := testSigner(t, c.csca, x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning})
	other := testSigner(t, c.csca, x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment, nil)
	withEKU, err := card.SOD(eku, c.groups)
	if err != nil {
		t.Fatal(err)
	}
	otherKU, err := card.SOD(other, c.groups)
	if err != nil {
		t.Fatal(err)
	}
	cms := cmsOf(c.sod)
	dg2 := bytes.Clone(c.groups[2])
	dg2[len(dg2)-3] ^= 1
	for name, tc := range map[string]struct {
		sod    []byte
		groups map[int][]byte
		want   string
	}{
		"eContentType id-data":           {signAs(t, ds, securityObject(t, c.sod), pkcs7.OIDData), c.groups, card.CodeEContentType},
		"eContentType ldsVersionInfo":    {signAs(t, ds, securityObject(t, c.sod), asn1.ObjectIdentifier{2, 23, 136, 1, 1, 2}), c.groups, card.CodeEContentType},
		"a byte after tag 77":            {append(bytes.Clone(c.sod), 0x00), c.groups, card.CodeTrailingBytes},
		"bytes after the CMS in tag 77":  {wrap77(append(bytes.Clone(cms), 0x90, 0x00)), c.groups, card.CodeTrailingBytes},
		"bytes after the security obj.":  {signAs(t, ds, append(securityObject(t, c.sod), 0x05, 0x00), asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}), c.groups, card.CodeTrailingBytes},
		"DS with extendedKeyUsage":       {withEKU, c.groups, card.CodeDSKeyUsage},
		"DS with keyEncipherment too":    {otherKU, c.groups, card.CodeDSKeyUsage},
		"no data group":                  {c.sod, map[int][]byte{}, card.CodeNoDataGroups},
		"no data group (nil)":            {c.sod, nil, card.CodeNoDataGroups},
		"no DG1":                         {c.sod, map[int][]byte{2: c.groups[2], 13: c.groups[13]}, card.CodeDG1Missing},
		"an empty DG1":                   {c.sod, map[int][]byte{1: {}, 13: c.groups[13]}, card.CodeDG1Missing},
		"a changed DG2":                  {c.sod, map[int][]byte{1: c.groups[1], 2: dg2}, "dg_hash_mismatch:DG2"},
		"a DG3 the SOD does not hash":    {c.sod, map[int][]byte{1: c.groups[1], 3: {0x63, 0x00}}, "dg_not_in_sod:DG3"},
		"signed by a CSCA, not a DS":     {mustSOD(t, c.csca, c.groups), c.groups, card.CodeDSKeyUsage},
		"not a SOD":                      {[]byte{0x77, 0x03, 0x30, 0x01, 0x00}, c.groups, card.CodeSODFormat},
		"BER indefinite length":          {wrap77(append([]byte{0x30, 0x80}, append(bytes.Clone(cms[4:]), 0, 0)...)), c.groups, card.CodeSODFormat},
		"a SOD of another country's CA":  {makeChip(t, now).sod, c.groups, card.CodeChain},
		"a changed signature":            {flip(c.sod, len(c.sod)-10), c.groups, card.CodeSignature},
		"another CSCA and not a SOD tag": {append([]byte{0x78}, c.sod[1:]...), c.groups, card.CodeSODFormat},
	} {
		f := codes(tc.sod, tc.groups)
		if tc.want == card.CodeChain || name == "an empty DG1" {
			// Another CSCA fails the chain and every hash; an empty DG1
			// fails its hash too.
			if !slices.Contains(f, tc.want) {
				t.Errorf("%s: failed %v, want %s among them", name, f, tc.want)
			}
			continue
		}
		if !slices.Equal(f, []string{tc.want}) {
			t.Errorf("%s: failed %v, want [%s]", name, f, tc.want)
		}
	}
}

func mustSOD(t *testing.T, ds pki.Authority, groups map[int][]byte) []byte {
	t.Helper()
	sod, err := card.SOD(ds, groups)
	if err != nil {
		t.Fatal(err)
	}
	return sod
}

func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 1
	return b
}

// TestSODVersions: EF.SOD is CMS SignedData version 3 over an LDS security
// object version 0 (LDS 1.7) with the id-icao-mrtd-security-ldsSecurityObject
// content type, as encoding/asn1 reads it and, where installed, as
// openssl prints it.
func TestSODVersions(t *testing.T) {
	c := makeChip(t, time.Now())
	var ci struct {
		ContentType asn1.ObjectIdentifier
		SignedData  struct {
			Version          int
			DigestAlgorithms asn1.RawValue
			Encap            struct {
				EContentType asn1.ObjectIdentifier
				EContent     []byte `asn1:"explicit,tag:0"`
			}
			Rest asn1.RawValue `asn1:"optional"`
		} `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(cmsOf(c.sod), &ci); err != nil {
		t.Fatal(err)
	}
	if ci.SignedData.Version != 3 || !ci.SignedData.Encap.EContentType.Equal(asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}) {
		t.Errorf("SignedData version %d, eContentType %v", ci.SignedData.Version, ci.SignedData.Encap.EContentType)
	}
	var obj struct {
		Version int
		Rest    asn1.RawValue
	}
	if _, err := asn1.Unmarshal(ci.SignedData.Encap.EContent, &obj); err != nil || obj.Version != 0 {
		t.Errorf("LDS security object version %d, %v", obj.Version, err)
	}
	info, err := card.ParseSOD(c.sod)
	if err != nil || info.SignedDataVersion != 3 || info.SecurityObjectVersion != 0 || !slices.Equal(info.DataGroups, []int{1, 2, 13, 14, 15}) {
		t.Errorf("ParseSOD: %+v, %v", info, err)
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed: the independent check is skipped")
	}
	p := filepath.Join(t.TempDir(), "sod.der")
	if err := os.WriteFile(p, cmsOf(c.sod), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", p).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cms -cmsout -print: %v\n%s", err, out)
	}
	if m := regexp.MustCompile(`d\.signedData:\s*\n\s*version: (\d+)`).FindSubmatch(out); m == nil || string(m[1]) != "3" {
		t.Errorf("openssl reads SignedData version %q:\n%s", m, out)
	}
	if !bytes.Contains(out, []byte("eContentType: undefined (2.23.136.1.1.1)")) && !bytes.Contains(out, []byte("(2.23.136.1.1.1)")) {
		t.Errorf("openssl reads another eContentType:\n%s", out)
	}
}

// TestEFCOM: EF.COM states LDS 1.7, Unicode 4.0.0 and the tags of the data
// groups present, byte for byte as ICAO 9303-10 lays it out; it
// reads back; malformed ones are refused; against a SOD it must list what
// the SOD hashes.
func TestEFCOM(t *testing.T) {
	com := card.COM(13, 1, 2)
	if want := "6015" + "5f0104" + hex.EncodeToString([]byte("0107")) + "5f3606" + hex.EncodeToString([]byte("040000")) + "5c0361756d"; hex.EncodeToString(com) != want {
		t.Errorf("EF.COM %x, want %s", com, want)
	}
	info, err := card.ParseCOM(com)
	if err != nil || info.LDSVersion != "0107" || info.UnicodeVersion != "040000" || !slices.Equal(info.DataGroups, []int{1, 2, 13}) {
		t.Errorf("read back %+v, %v", info, err)
	}
	for name, b := range map[string][]byte{
		"cut":               com[:len(com)-1],
		"a byte after":      append(bytes.Clone(com), 0),
		"not tag 60":        append([]byte{0x61}, com[1:]...),
		"no tag list":       com[:2+7+9],
		"letters as LDS":    bytes.Replace(com, []byte("0107"), []byte("01a7"), 1),
		"a tag not a group": bytes.Replace(com, []byte{0x6d}, []byte{0x7f}, 1),
		"DG1 listed twice":  bytes.Replace(com, []byte{0x75}, []byte{0x61}, 1),
	} {
		if _, err := card.ParseCOM(b); err == nil {
			t.Errorf("%s: read", name)
		}
	}
	c := makeChip(t, time.Now())
	if ch := card.CheckCOM(card.COM(1, 2, 13, 14, 15), c.sod); !ch.OK {
		t.Errorf("the chip's own EF.COM: %+v", ch)
	}
	if ch := card.CheckCOM(card.COM(1, 13), c.sod); ch.OK || ch.Code != card.CodeCOMMismatch {
		t.Errorf("an EF.COM without DG2: %+v", ch)
	}
	if ch := card.CheckCOM([]byte{0x60, 0x00}, c.sod); ch.OK || ch.Code != card.CodeCOMFormat {
		t.Errorf("an empty EF.COM: %+v", ch)
	}
}

// FuzzParseSOD: the strict SOD and EF.COM parsers of the verify path never
// panic; a SOD they accept has no bytes after its DER, and what a COM
// they accept states is written back the same.
func FuzzParseSOD(f *testing.F) {
	now := time.Now()
	csca, _ := pki.NewCSCA(now, "CSCA fuzz")
	ds, _ := csca.NewDocumentSigner(now, "DS fuzz")
	lines, _ := sample.Lines()
	sod, _ := card.SOD(ds, map[int][]byte{1: card.DG1(lines)})
	f.Add(sod, card.COM(1))
	f.Add([]byte{0x77, 0x03, 0x30, 0x01, 0x00}, []byte{0x60, 0x00})
	f.Fuzz(func(t *testing.T, sod, com []byte) {
		if _, err := card.ParseSOD(sod); err == nil {
			if _, err := card.ParseSOD(append(bytes.Clone(sod), 0)); err == nil {
				t.Fatal("a SOD with a byte after it read")
			}
		}
		card.CheckCOM(com, sod)
		info, err := card.ParseCOM(com)
		if err != nil {
			return
		}
		if info.LDSVersion == card.LDSVersion && info.UnicodeVersion == card.UnicodeVersion && slices.IsSorted(info.DataGroups) {
			again := card.COM(info.DataGroups...)
			if back, err := card.ParseCOM(again); err != nil || !slices.Equal(back.DataGroups, info.DataGroups) {
				t.Fatalf("%x reads %+v, writes %x which reads %+v, %v", com, info, again, back, err)
			}
		}
	})
}
