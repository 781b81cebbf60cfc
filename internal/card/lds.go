package card

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
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
// "010"), with the image as given (JPEG or JPEG 2000) and its type, width
// and height as its own header states them. An image whose header cannot
// be read, or larger than MaxPhoto, is refused.
func DG2(image []byte) ([]byte, error) {
	if len(image) > MaxPhoto {
		return nil, fmt.Errorf("DG2: the face image is %d bytes; at most %d", len(image), MaxPhoto)
	}
	info, err := ParseImage(image)
	if err != nil {
		return nil, fmt.Errorf("DG2: %w", err)
	}
	rec := []byte("FAC\x00010\x00")
	length := 14 + 20 + 12 + len(image)                                                              // header, facial info block, image info, image
	rec = append(rec, byte(length>>24), byte(length>>16), byte(length>>8), byte(length), 0x00, 0x01) // record length, one face
	block := 20 + 12 + len(image)
	rec = append(rec, byte(block>>24), byte(block>>16), byte(block>>8), byte(block))
	rec = append(rec, make([]byte, 16)...) // landmarks 0, gender, eyes, hair, features, expression, pose: unspecified
	colour := byte(0)                      // unspecified
	if info.Components == 1 {
		colour = 3 // 8-bit greyscale
	}
	// Image information: full frontal, the data type, width, height,
	// colour space; source, device and quality unspecified.
	rec = append(rec, 0x01, byte(info.Type), byte(info.Width>>8), byte(info.Width), byte(info.Height>>8), byte(info.Height), colour, 0, 0, 0, 0, 0)
	rec = append(rec, image...)
	header := tlv([]byte{0xA1}, slices.Concat(tlv([]byte{0x80}, []byte{0x01, 0x01}), tlv([]byte{0x87}, []byte{0x01, 0x01}), tlv([]byte{0x88}, []byte{0x00, 0x08})))
	bit := tlv([]byte{0x7F, 0x60}, slices.Concat(header, tlv([]byte{0x5F, 0x2E}, rec)))
	return tlv(tagDG2, tlv([]byte{0x7F, 0x61}, slices.Concat(tlv([]byte{0x02}, []byte{0x01}), bit))), nil
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

// The LDS version and Unicode version EF.COM states: LDS 1.7 (the data
// groups and security object version 0 of ICAO 9303-10), Unicode 4.0.0.
const (
	LDSVersion     = "0107"
	UnicodeVersion = "040000"
)

// dgTags are the tags of data groups 1–16 (ICAO 9303-10), by number.
var dgTags = [17]byte{1: 0x61, 2: 0x75, 3: 0x63, 4: 0x76, 5: 0x65, 6: 0x66, 7: 0x67, 8: 0x68, 9: 0x69, 10: 0x6A,
	11: 0x6B, 12: 0x6C, 13: 0x6D, 14: 0x6E, 15: 0x6F, 16: 0x70}

// COM is EF.COM: the LDS version, the Unicode version and the tag list of
// the data groups present (groups are numbers 1–16; others are left out).
func COM(groups ...int) []byte {
	groups = slices.Clone(groups)
	slices.Sort(groups)
	var tags []byte
	for i, n := range groups {
		if n >= 1 && n <= 16 && (i == 0 || groups[i-1] != n) {
			tags = append(tags, dgTags[n])
		}
	}
	return tlv(tagCOM, slices.Concat(tlv([]byte{0x5F, 0x01}, []byte(LDSVersion)), tlv([]byte{0x5F, 0x36}, []byte(UnicodeVersion)), tlv([]byte{0x5C}, tags)))
}

// COMInfo is what EF.COM states.
type COMInfo struct {
	LDSVersion     string
	UnicodeVersion string
	DataGroups     []int // in the order of the tag list
}

// ParseCOM reads EF.COM: tag 60 holding the LDS version (5F01, four
// digits), the Unicode version (5F36, six digits) and the tag list (5C) of
// data groups 1–16, each at most once; nothing else, nothing after.
func ParseCOM(com []byte) (COMInfo, error) {
	var out COMInfo
	tag, v, rest, err := readTLV(com)
	if err != nil || !bytes.Equal(tag, tagCOM) || len(rest) != 0 {
		return out, errors.New("EF.COM: not an EF.COM (tag 60)")
	}
	digits := func(b []byte, n int) bool {
		return len(b) == n && !slices.ContainsFunc(b, func(c byte) bool { return c < '0' || c > '9' })
	}
	var vals [3][]byte // LDS version, Unicode version, tag list, in this order
	for i, want := range [][]byte{{0x5F, 0x01}, {0x5F, 0x36}, {0x5C}} {
		tag, val, r, err := readTLV(v)
		if err != nil || !bytes.Equal(tag, want) {
			return out, fmt.Errorf("EF.COM: no element %X where expected", want)
		}
		vals[i], v = val, r
	}
	lds, uni, list := vals[0], vals[1], vals[2]
	if len(v) != 0 {
		return out, errors.New("EF.COM: bytes after the tag list")
	}
	if !digits(lds, 4) || !digits(uni, 6) {
		return out, errors.New("EF.COM: the LDS or Unicode version is not digits")
	}
	out.LDSVersion, out.UnicodeVersion = string(lds), string(uni)
	for _, t := range list {
		n := slices.Index(dgTags[:], t)
		if n < 1 || slices.Contains(out.DataGroups, n) {
			return out, fmt.Errorf("EF.COM: tag %02X is not a data group or is listed twice", t)
		}
		out.DataGroups = append(out.DataGroups, n)
	}
	return out, nil
}

// The LDS Security Object (ICAO 9303-10 §4.6.2).
var (
	oidLDSSecurityObject = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}
	oidSignedData        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidSHA256            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
)

// SignedDataVersion is the CMS SignedData version of EF.SOD: 3, as ICAO
// 9303-10 requires (and RFC 5652 for an eContentType other than id-data).
const SignedDataVersion = 3

type dataGroupHash struct {
	Number int
	Hash   []byte
}

type ldsSecurityObject struct {
	Version       int
	HashAlgorithm pkix.AlgorithmIdentifier
	Hashes        []dataGroupHash
}

// SecurityObjectVersion is the LDS security object version of our cards:
// v0, for LDS 1.7 (LDSVersion), whose data groups are all they hold. v1,
// with its LDSVersionInfo, is for chips with LDS 1.8 features.
const SecurityObjectVersion = 0

// SOD makes EF.SOD: the SHA-256 of each data group, in an LDS Security
// Object, in CMS SignedData version 3 signed by the Document Signer (its
// certificate included), wrapped in tag 77.
func SOD(ds pki.Authority, groups map[int][]byte) ([]byte, error) {
	obj := ldsSecurityObject{Version: SecurityObjectVersion, HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA256}}
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
	sd.GetSignedData().Version = SignedDataVersion
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

// ParseDG2 returns the facial image held in DG2 (the first face) and the
// type, width and height its record states.
func ParseDG2(dg2 []byte) ([]byte, ImageInfo, error) {
	var info ImageInfo
	tag, v, rest, err := readTLV(dg2)
	if err != nil || !bytes.Equal(tag, tagDG2) || len(rest) != 0 {
		return nil, info, errors.New("DG2: not a data group 2 (tag 75)")
	}
	if tag, v, _, err = readTLV(v); err != nil || !bytes.Equal(tag, []byte{0x7F, 0x61}) {
		return nil, info, errors.New("DG2: no biometric information group template (7F61)")
	}
	if tag, _, v, err = readTLV(v); err != nil || !bytes.Equal(tag, []byte{0x02}) { // number of instances
		return nil, info, errors.New("DG2: no instance count")
	}
	if tag, v, _, err = readTLV(v); err != nil || !bytes.Equal(tag, []byte{0x7F, 0x60}) {
		return nil, info, errors.New("DG2: no biometric information template (7F60)")
	}
	if tag, _, v, err = readTLV(v); err != nil || !bytes.Equal(tag, []byte{0xA1}) {
		return nil, info, errors.New("DG2: no biometric header template (A1)")
	}
	if tag, v, _, err = readTLV(v); err != nil || !bytes.Equal(tag, []byte{0x5F, 0x2E}) {
		return nil, info, errors.New("DG2: no biometric data block (5F2E)")
	}
	if len(v) < 14+20 || string(v[:4]) != "FAC\x00" {
		return nil, info, errors.New("DG2: not an ISO/IEC 19794-5 facial record")
	}
	length := int(v[8])<<24 | int(v[9])<<16 | int(v[10])<<8 | int(v[11])
	if length != len(v) {
		return nil, info, errors.New("DG2: the record length does not match")
	}
	head := 14 + 20 + 8*(int(v[18])<<8|int(v[19])) // header, facial information, feature points
	if len(v) < head+12 {
		return nil, info, errors.New("DG2: the facial record is cut short")
	}
	im := v[head : head+12]
	info = ImageInfo{Type: ImageType(im[1]), Width: int(im[2])<<8 | int(im[3]), Height: int(im[4])<<8 | int(im[5])}
	return v[head+12:], info, nil
}
