package card

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/smallstep/pkcs7"

	"github.com/dancu-vn/dancu/internal/pki"
)

// tlv encodes a BER-TLV: tag (one or two bytes), definite length, value.
func tlv(tag []byte, value []byte) []byte {
	out := append([]byte{}, tag...)
	n := len(value)
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, value...)
}

// readTLV reads one BER-TLV from b: its tag, value and the rest.
func readTLV(b []byte) (tag []byte, value []byte, rest []byte, err error) {
	if len(b) < 2 {
		return nil, nil, nil, errors.New("truncated TLV")
	}
	i := 1
	if b[0]&0x1f == 0x1f { // multi-byte tag
		for i < len(b) && b[i]&0x80 != 0 {
			i++
		}
		i++
	}
	if i >= len(b) {
		return nil, nil, nil, errors.New("truncated tag")
	}
	tag = b[:i]
	l := int(b[i])
	i++
	if l&0x80 != 0 {
		k := l & 0x7f
		if k == 0 || k > 3 || i+k > len(b) {
			return nil, nil, nil, errors.New("bad length")
		}
		l = 0
		for _, c := range b[i : i+k] {
			l = l<<8 | int(c)
		}
		i += k
	}
	if i+l > len(b) {
		return nil, nil, nil, errors.New("value runs past the end")
	}
	return tag, b[i : i+l], b[i+l:], nil
}

// Data group tags (ICAO 9303-10).
var (
	tagCOM  = []byte{0x60}
	tagDG1  = []byte{0x61}
	tagDG2  = []byte{0x75}
	tagDG13 = []byte{0x6D}
	tagSOD  = []byte{0x77}
)

// DG1 is the MRZ data group.
func DG1(lines [3]string) []byte {
	return tlv(tagDG1, tlv([]byte{0x5F, 0x1F}, []byte(lines[0]+lines[1]+lines[2])))
}

// DG2 is the face data group: one biometric information template holding
// the facial image in an ISO/IEC 19794-5 record (format "FAC", version
// "010"), with the image as given (JPEG or JPEG 2000).
func DG2(image []byte) []byte {
	rec := []byte("FAC\x00010\x00")
	length := 14 + 20 + 12 + len(image)                                                              // header, facial info block, image info, image
	rec = append(rec, byte(length>>24), byte(length>>16), byte(length>>8), byte(length), 0x00, 0x01) // record length, one face
	block := 20 + 12 + len(image)
	rec = append(rec, byte(block>>24), byte(block>>16), byte(block>>8), byte(block))
	rec = append(rec, make([]byte, 16)...)                      // landmarks 0, gender, eyes, hair, features, expression, pose: unspecified
	rec = append(rec, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) // full frontal, JPEG, rest unspecified
	rec = append(rec, image...)
	header := tlv([]byte{0xA1}, slices.Concat(tlv([]byte{0x80}, []byte{0x01, 0x01}), tlv([]byte{0x87}, []byte{0x01, 0x01}), tlv([]byte{0x88}, []byte{0x00, 0x08})))
	bit := tlv([]byte{0x7F, 0x60}, slices.Concat(header, tlv([]byte{0x5F, 0x2E}, rec)))
	return tlv(tagDG2, tlv([]byte{0x7F, 0x61}, slices.Concat(tlv([]byte{0x02}, []byte{0x01}), bit)))
}

// DG13Field is one Vietnamese field of DG13, numbered as on real cards.
type DG13Field struct {
	N     int
	Value string
}

// DG13 is the Vietnamese data group: tag 6D holding SEQUENCEs of
// {INTEGER n, string}, in order of n; the ID number is a PrintableString,
// the rest UTF8String.
func DG13(fields []DG13Field) ([]byte, error) {
	fields = slices.Clone(fields)
	slices.SortFunc(fields, func(a, b DG13Field) int { return a.N - b.N })
	var body []byte
	for _, f := range fields {
		tag := "utf8"
		if f.N == 1 || f.N == 16 {
			tag = "printable"
		}
		v, err := asn1.MarshalWithParams(f.Value, tag)
		if err != nil {
			return nil, fmt.Errorf("DG13 field %d: %w", f.N, err)
		}
		n, _ := asn1.Marshal(f.N)
		body = append(body, tlv([]byte{0x30}, append(n, v...))...)
	}
	return tlv(tagDG13, body), nil
}

// COM lists the data groups present (EF.COM, LDS 1.7, Unicode 4.0.0).
func COM(tags ...byte) []byte {
	return tlv(tagCOM, slices.Concat(tlv([]byte{0x5F, 0x01}, []byte("0107")), tlv([]byte{0x5F, 0x36}, []byte("040000")), tlv([]byte{0x5C}, tags)))
}

// The LDS Security Object (ICAO 9303-10 §4.6.2).
var (
	oidLDSSecurityObject = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}
	oidSHA256            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
)

type dataGroupHash struct {
	Number int
	Hash   []byte
}

type ldsSecurityObject struct {
	Version       int
	HashAlgorithm pkix.AlgorithmIdentifier
	Hashes        []dataGroupHash
}

// SOD makes EF.SOD: the SHA-256 of each data group, in an LDS Security
// Object, in CMS SignedData signed by the Document Signer (its certificate
// included), wrapped in tag 77.
func SOD(ds pki.Authority, groups map[int][]byte) ([]byte, error) {
	obj := ldsSecurityObject{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA256}}
	nums := make([]int, 0, len(groups))
	for n := range groups {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	for _, n := range nums {
		h := sha256.Sum256(groups[n])
		obj.Hashes = append(obj.Hashes, dataGroupHash{Number: n, Hash: h[:]})
	}
	content, err := asn1.Marshal(obj)
	if err != nil {
		return nil, err
	}
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, err
	}
	sd.GetSignedData().ContentInfo.ContentType = oidLDSSecurityObject
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(ds.Cert, ds.Key, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("sign the security object: %w", err)
	}
	der, err := sd.Finish()
	if err != nil {
		return nil, err
	}
	return tlv(tagSOD, der), nil
}

// Check is one check of passive authentication.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// PassiveAuth verifies what a reader took from a chip: the SOD's signature,
// its Document Signer's chain to one of our CSCA certificates (valid at
// at), and the hash of every data group given. It returns each check; the
// card passes when all are OK.
func PassiveAuth(sod []byte, groups map[int][]byte, cscas []*x509.Certificate, at time.Time) ([]Check, *x509.Certificate) {
	var checks []Check
	add := func(name string, ok bool, detail string) {
		checks = append(checks, Check{Name: name, OK: ok, Detail: detail})
	}
	tag, der, _, err := readTLV(sod)
	if err != nil || !bytes.Equal(tag, tagSOD) {
		add("sod", false, "not an EF.SOD (tag 77)")
		return checks, nil
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		add("sod", false, "not CMS SignedData: "+err.Error())
		return checks, nil
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		add("signature", false, "no single signer certificate in the SOD")
		return checks, nil
	}
	pool := x509.NewCertPool()
	for _, c := range cscas {
		pool.AddCert(c)
	}
	if err := p7.Verify(); err != nil {
		add("signature", false, err.Error())
	} else {
		add("signature", true, "")
	}
	_, chainErr := signer.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	switch {
	case chainErr != nil:
		add("chain", false, "the Document Signer does not chain to our CSCA: "+chainErr.Error())
	case signer.KeyUsage&x509.KeyUsageDigitalSignature == 0 || signer.IsCA:
		add("chain", false, "the signer is not a Document Signer certificate")
	default:
		add("chain", true, signer.Subject.CommonName)
	}
	var obj ldsSecurityObject
	if _, err := asn1.Unmarshal(p7.Content, &obj); err != nil || !obj.HashAlgorithm.Algorithm.Equal(oidSHA256) {
		add("security_object", false, "not an LDS security object with SHA-256")
		return checks, signer
	}
	nums := make([]int, 0, len(groups))
	for n := range groups {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	for _, n := range nums {
		name := fmt.Sprintf("dg%d", n)
		i := slices.IndexFunc(obj.Hashes, func(h dataGroupHash) bool { return h.Number == n })
		if i < 0 {
			add(name, false, "not in the security object")
			continue
		}
		h := sha256.Sum256(groups[n])
		if !bytes.Equal(h[:], obj.Hashes[i].Hash) {
			add(name, false, "the hash does not match: the data group was changed")
			continue
		}
		add(name, true, "")
	}
	return checks, signer
}

// Passed reports whether every check passed.
func Passed(checks []Check) bool {
	for _, c := range checks {
		if !c.OK {
			return false
		}
	}
	return len(checks) > 0
}

// ParseDG1 reads the MRZ out of DG1 as its three TD1 lines.
func ParseDG1(dg1 []byte) ([3]string, error) {
	var lines [3]string
	tag, v, rest, err := readTLV(dg1)
	if err != nil || !bytes.Equal(tag, tagDG1) || len(rest) != 0 {
		return lines, errors.New("DG1: not a data group 1 (tag 61)")
	}
	tag, mrz, _, err := readTLV(v)
	if err != nil || !bytes.Equal(tag, []byte{0x5F, 0x1F}) {
		return lines, errors.New("DG1: no MRZ (tag 5F1F)")
	}
	if len(mrz) != 90 {
		return lines, fmt.Errorf("DG1: the MRZ has %d characters, TD1 has 90", len(mrz))
	}
	return [3]string{string(mrz[:30]), string(mrz[30:60]), string(mrz[60:])}, nil
}

// ParseDG13 reads the Vietnamese fields out of DG13, in the chip's order.
func ParseDG13(dg13 []byte) ([]DG13Field, error) {
	tag, body, rest, err := readTLV(dg13)
	if err != nil || !bytes.Equal(tag, tagDG13) || len(rest) != 0 {
		return nil, errors.New("DG13: not a data group 13 (tag 6D)")
	}
	var out []DG13Field
	for len(body) > 0 {
		var seq asn1.RawValue
		if body, err = asn1.Unmarshal(body, &seq); err != nil || seq.Tag != asn1.TagSequence || seq.Class != asn1.ClassUniversal {
			return nil, errors.New("DG13: an entry is not a SEQUENCE")
		}
		var n int
		r, err := asn1.Unmarshal(seq.Bytes, &n)
		if err != nil || n < 1 || n > 99 {
			return nil, errors.New("DG13: an entry has no field number")
		}
		var s asn1.RawValue
		if r, err = asn1.Unmarshal(r, &s); err != nil || len(r) != 0 || s.Class != asn1.ClassUniversal {
			return nil, fmt.Errorf("DG13: field %d has no single string", n)
		}
		switch s.Tag {
		case asn1.TagUTF8String, asn1.TagPrintableString:
		default:
			return nil, fmt.Errorf("DG13: field %d is not a UTF8String or PrintableString", n)
		}
		if !utf8.Valid(s.Bytes) {
			return nil, fmt.Errorf("DG13: field %d is not UTF-8", n)
		}
		if len(out) > 0 && out[len(out)-1].N >= n {
			return nil, fmt.Errorf("DG13: field %d is out of order", n)
		}
		out = append(out, DG13Field{N: n, Value: string(s.Bytes)})
	}
	return out, nil
}

// ParseDG2 returns the facial image held in DG2 (the first face).
func ParseDG2(dg2 []byte) ([]byte, error) {
	tag, v, rest, err := readTLV(dg2)
	if err != nil || !bytes.Equal(tag, tagDG2) || len(rest) != 0 {
		return nil, errors.New("DG2: not a data group 2 (tag 75)")
	}
	if tag, v, _, err = readTLV(v); err != nil || !bytes.Equal(tag, []byte{0x7F, 0x61}) {
		return nil, errors.New("DG2: no biometric information group template (7F61)")
	}
	if tag, _, v, err = readTLV(v); err != nil || !bytes.Equal(tag, []byte{0x02}) { // number of instances
		return nil, errors.New("DG2: no instance count")
	}
	if tag, v, _, err = readTLV(v); err != nil || !bytes.Equal(tag, []byte{0x7F, 0x60}) {
		return nil, errors.New("DG2: no biometric information template (7F60)")
	}
	if tag, _, v, err = readTLV(v); err != nil || !bytes.Equal(tag, []byte{0xA1}) {
		return nil, errors.New("DG2: no biometric header template (A1)")
	}
	if tag, v, _, err = readTLV(v); err != nil || !bytes.Equal(tag, []byte{0x5F, 0x2E}) {
		return nil, errors.New("DG2: no biometric data block (5F2E)")
	}
	const head = 14 + 20 + 12
	if len(v) < head || string(v[:4]) != "FAC\x00" {
		return nil, errors.New("DG2: not an ISO/IEC 19794-5 facial record")
	}
	length := int(v[8])<<24 | int(v[9])<<16 | int(v[10])<<8 | int(v[11])
	if length != len(v) {
		return nil, errors.New("DG2: the record length does not match")
	}
	return v[head:], nil
}
