package card_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/card/chiptest"
	"github.com/dancu-vn/dancu/internal/pki"
)

// personalised makes what production gives the card factory for one
// card, without a database: DG1, DG13, DG14, DG15, EF.COM, EF.SOD and
// the keys, and the CSCA to check it against.
func personalised(t testing.TB, now time.Time) (card.Personalisation, pki.Authority) {
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
	dg13, err := card.DG13([]card.DG13Field{{1, "001090123456"}, {2, "Nguyễn Văn An"}, {3, "17/05/1990"}, {4, "Nam"}})
	if err != nil {
		t.Fatal(err)
	}
	keys, dg14, dg15, err := card.NewChipKeys()
	if err != nil {
		t.Fatal(err)
	}
	groups := map[int][]byte{1: card.DG1(lines), 13: dg13, 14: dg14, 15: dg15}
	sod, err := card.SOD(ds, groups)
	if err != nil {
		t.Fatal(err)
	}
	return card.Personalisation{SOD: sod, COM: card.COM(slices.Collect(maps.Keys(groups))...), DataGroups: groups, Keys: keys}, csca
}

func publicOf(t *testing.T, pkcs8 []byte) *ecdsa.PublicKey {
	t.Helper()
	k, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		t.Fatal(err)
	}
	return &k.(*ecdsa.PrivateKey).PublicKey
}

// TestDG14DG15: DG14 holds the SecurityInfos of Chip Authentication
// (id-PK-ECDH with the card's CA key, id-CA-ECDH-AES-CBC-CMAC-128 v1) and
// of ECDSA Active Authentication (ecdsa-plain-SHA256) in a DER SET;
// DG15 the AA key; each reads back, and malformed ones are refused.
func TestDG14DG15(t *testing.T) {
	p, _ := personalised(t, time.Now())
	dg14, dg15 := p.DataGroups[14], p.DataGroups[15]
	if dg14[0] != 0x6E || dg15[0] != 0x6F {
		t.Fatalf("tags %02X %02X", dg14[0], dg15[0])
	}
	info, err := card.ParseDG14(dg14)
	if err != nil {
		t.Fatal(err)
	}
	caPub, _ := publicOf(t, p.Keys.ChipAuthentication).ECDH()
	if !info.ChipAuthenticationKey.Equal(caPub) || info.ChipAuthenticationProtocol.String() != "0.4.0.127.0.7.2.2.3.2.2" ||
		info.AASignatureAlgorithm.String() != "0.4.0.127.0.7.1.1.4.1.3" {
		t.Errorf("DG14 %+v", info)
	}
	// The SET's elements are in DER order, and each has its protocol first.
	var outer, set asn1.RawValue
	if _, err := asn1.Unmarshal(dg14, &outer); err != nil || outer.Class != asn1.ClassApplication || outer.Tag != 14 {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(outer.Bytes, &set); err != nil || set.Tag != asn1.TagSet {
		t.Fatalf("DG14 body %v", err)
	}
	var elems [][]byte
	for rest := set.Bytes; len(rest) > 0; {
		var e asn1.RawValue
		rest, _ = asn1.Unmarshal(rest, &e)
		elems = append(elems, e.FullBytes)
	}
	if len(elems) != 3 || !slices.IsSortedFunc(elems, bytes.Compare) {
		t.Errorf("DG14 SET of %d, sorted %v", len(elems), slices.IsSortedFunc(elems, bytes.Compare))
	}
	aa, err := card.ParseDG15(dg15)
	if err != nil || !aa.Equal(publicOf(t, p.Keys.ActiveAuthentication)) {
		t.Errorf("DG15: %v", err)
	}
	rsa := []byte{0x6F, 0x03, 0x30, 0x01, 0x00}
	p256 := func(curve elliptic.Curve) []byte {
		k, _ := ecdsa.GenerateKey(curve, rand.Reader)
		dg, err := card.DG15(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return dg
	}
	for name, dg := range map[string][]byte{"trailing": append(bytes.Clone(dg15), 0), "tag 6E": append([]byte{0x6E}, dg15[1:]...),
		"not a key": rsa, "P-384": p256(elliptic.P384())} {
		if _, err := card.ParseDG15(dg); err == nil {
			t.Errorf("DG15 %s parsed", name)
		}
	}
	// dg14Of is a DG14 holding only the given SecurityInfos.
	dg14Of := func(infos ...[]byte) []byte {
		set, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: slices.Concat(infos...)})
		dg, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassApplication, Tag: 14, IsCompound: true, Bytes: set})
		return dg
	}
	var caInfo, aaInfo, pkInfo []byte
	for _, e := range elems {
		switch {
		case bytes.Contains(e, []byte{0x06, 0x09, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x01, 0x02}):
			pkInfo = e
		case bytes.Contains(e, []byte{0x06, 0x06, 0x67, 0x81, 0x08, 0x01, 0x01, 0x05}):
			aaInfo = e
		default:
			caInfo = e
		}
	}
	if _, err := card.ParseDG14(dg14Of(caInfo, aaInfo, pkInfo)); err != nil {
		t.Fatalf("DG14 rebuilt from its parts: %v", err)
	}
	if info, err := card.ParseDG14(dg14Of(caInfo, pkInfo)); err != nil || info.AASignatureAlgorithm != nil {
		t.Errorf("DG14 without AA: %+v, %v", info, err)
	}
	for name, dg := range map[string][]byte{"trailing": append(bytes.Clone(dg14), 0), "empty SET": dg14Of(), "no key": dg14Of(caInfo, aaInfo),
		"no ChipAuthenticationInfo": dg14Of(aaInfo, pkInfo), "the key twice": dg14Of(caInfo, pkInfo, pkInfo), "tag 6F": append([]byte{0x6F}, dg14[1:]...)} {
		if _, err := card.ParseDG14(dg); err == nil {
			t.Errorf("DG14 %s parsed", name)
		}
	}
}

// TestSODCoversDG14DG15: the SOD hashes DG14 and DG15, EF.COM lists them,
// passive authentication passes; a changed DG14 or DG15 fails with its
// own dg_hash_mismatch code, and one the SOD does not hash with
// dg_not_in_sod.
func TestSODCoversDG14DG15(t *testing.T) {
	now := time.Now()
	p, csca := personalised(t, now)
	si, err := card.ParseSOD(p.SOD)
	if err != nil || !slices.Equal(si.DataGroups, []int{1, 13, 14, 15}) {
		t.Fatalf("SOD %+v, %v", si, err)
	}
	if c := card.CheckCOM(p.COM, p.SOD); !c.OK {
		t.Errorf("EF.COM %+v", c)
	}
	cscas := []*x509.Certificate{csca.Cert}
	if checks, _ := card.PassiveAuth(p.SOD, p.DataGroups, cscas, now); !card.Passed(checks) {
		t.Fatalf("as produced: %v", failed(checks))
	}
	for _, n := range []int{14, 15} {
		changed := maps.Clone(p.DataGroups)
		changed[n] = flip(changed[n], len(changed[n])-3)
		want := []string{"dg_hash_mismatch:DG" + itoa(n)}
		if checks, _ := card.PassiveAuth(p.SOD, changed, cscas, now); !slices.Equal(card.FailedCodes(checks), want) {
			t.Errorf("a changed DG%d: %v, want %v", n, card.FailedCodes(checks), want)
		}
	}
	ds, _ := csca.NewDocumentSigner(now, "Document Signer 002")
	old := mustSOD(t, ds, map[int][]byte{1: p.DataGroups[1], 13: p.DataGroups[13]})
	if checks, _ := card.PassiveAuth(old, p.DataGroups, cscas, now); !slices.Equal(card.FailedCodes(checks), []string{"dg_not_in_sod:DG14", "dg_not_in_sod:DG15"}) {
		t.Errorf("DG14 and DG15 unhashed: %v", card.FailedCodes(checks))
	}
}

// TestActiveAuthentication: the genuine chip's answer to the verifier's
// challenge passes; a clone (the same files and SOD, another key), an
// answer to another challenge, a DER signature, no DG15 and no DG14 each
// fail with the AA code.
func TestActiveAuthentication(t *testing.T) {
	now := time.Now()
	p, csca := personalised(t, now)
	chip := chiptest.New(p)
	clone, err := chiptest.Clone(chip)
	if err != nil {
		t.Fatal(err)
	}
	challenge := []byte("8 bytes!")
	sig, err := chip.InternalAuthenticate(challenge)
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature %x, %v", sig, err)
	}
	cloned, _ := clone.InternalAuthenticate(challenge)
	other, _ := chip.InternalAuthenticate([]byte("another!"))
	k, _ := x509.ParsePKCS8PrivateKey(p.Keys.ActiveAuthentication)
	h := sha256.Sum256(challenge)
	der, _ := ecdsa.SignASN1(rand.Reader, k.(*ecdsa.PrivateKey), h[:])
	_, _, groups := chip.Read()
	_, _, cloneGroups := clone.Read()
	without := func(n int) map[int][]byte { g := maps.Clone(groups); delete(g, n); return g }
	for name, tc := range map[string]struct {
		groups map[int][]byte
		sig    []byte
		want   string
	}{
		"genuine":         {groups, sig, ""},
		"clone":           {cloneGroups, cloned, "aa_signature"},
		"wrong challenge": {groups, other, "aa_signature"},
		"DER signature":   {groups, der, "aa_signature"},
		"no DG15":         {without(15), sig, "aa_missing_dg15"},
		"no DG14":         {without(14), sig, "aa_algorithm"},
		"DG15 changed":    {map[int][]byte{1: groups[1], 14: groups[14], 15: flip(groups[15], 2)}, sig, "aa_dg15_format"},
	} {
		c := card.ActiveAuth(tc.groups, card.AAProof{Challenge: challenge, Signature: tc.sig})
		if c.Name != "active_authentication" || c.OK != (tc.want == "") || c.Code != tc.want {
			t.Errorf("%s: %+v, want code %q", name, c, tc.want)
		}
	}
	// The clone's files pass passive authentication: only AA tells it apart.
	if checks, _ := card.PassiveAuth(p.SOD, cloneGroups, []*x509.Certificate{csca.Cert}, now); !card.Passed(checks) {
		t.Errorf("the clone's files: %v", failed(checks))
	}
}

// TestChipAuthentication: the chip's token for the terminal's ephemeral
// key passes; a clone's, a token for another ephemeral key and no DG14
// fail with the CA code.
func TestChipAuthentication(t *testing.T) {
	p, _ := personalised(t, time.Now())
	chip := chiptest.New(p)
	clone, _ := chiptest.Clone(chip)
	priv, pub, err := chiptest.Terminal()
	if err != nil {
		t.Fatal(err)
	}
	token, err := chip.ChipAuthenticate(pub)
	if err != nil || len(token) != 8 {
		t.Fatalf("token %x, %v", token, err)
	}
	cloned, _ := clone.ChipAuthenticate(pub)
	_, pub2, _ := chiptest.Terminal()
	other, _ := chip.ChipAuthenticate(pub2)
	_, _, groups := chip.Read()
	noDG14 := maps.Clone(groups)
	delete(noDG14, 14)
	for name, tc := range map[string]struct {
		groups map[int][]byte
		key    []byte
		token  []byte
		want   string
	}{
		"genuine":         {groups, priv, token, ""},
		"clone":           {groups, priv, cloned, "ca_token"},
		"other terminal":  {groups, priv, other, "ca_token"},
		"bad scalar":      {groups, make([]byte, 32), token, "ca_token"},
		"no DG14":         {noDG14, priv, token, "ca_missing_dg14"},
		"DG14 unreadable": {map[int][]byte{14: {0x6E, 0x02, 0x31, 0x00}}, priv, token, "ca_dg14_format"},
	} {
		c := card.ChipAuth(tc.groups, card.CAProof{TerminalKey: tc.key, Token: tc.token})
		if c.Name != "chip_authentication" || c.OK != (tc.want == "") || c.Code != tc.want {
			t.Errorf("%s: %+v, want code %q", name, c, tc.want)
		}
	}
}

func FuzzParseDG14(f *testing.F) {
	p, _ := personalised(f, time.Now())
	f.Add(p.DataGroups[14])
	f.Add([]byte{0x6E, 0x02, 0x31, 0x00})
	f.Add([]byte{0x6E, 0x05, 0x31, 0x03, 0x30, 0x01, 0x06})
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := card.ParseDG14(b)
		if err == nil && info.ChipAuthenticationKey == nil {
			t.Fatal("a DG14 without a key parsed")
		}
	})
}

func FuzzParseDG15(f *testing.F) {
	p, _ := personalised(f, time.Now())
	f.Add(p.DataGroups[15])
	f.Add([]byte{0x6F, 0x03, 0x30, 0x01, 0x00})
	f.Add([]byte{0x6F, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := card.ParseDG15(b)
		if err == nil && (k == nil || k.Curve != elliptic.P256()) {
			t.Fatal("a DG15 without a P-256 key parsed")
		}
	})
}
