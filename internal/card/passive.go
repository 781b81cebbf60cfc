package card

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/smallstep/pkcs7"
)

// Check is one check of passive authentication. A failed check carries a
// stable code for programs (the list below); the detail is for people.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Code   string `json:"code,omitempty" doc:"Why the check failed, a stable code: sod_format, trailing_bytes, econtent_type, signature, chain, ds_key_usage, security_object, no_data_groups, dg1_missing, dg_not_in_sod:DGn, dg_hash_mismatch:DGn, dg2_image, com_format, com_mismatch, ds_revoked, aa_missing_dg15, aa_dg15_format, aa_algorithm, aa_signature, ca_missing_dg14, ca_dg14_format, ca_token"`
	Detail string `json:"detail,omitempty"`
}

// The codes of failed checks.
const (
	CodeSODFormat      = "sod_format"       // not tag 77 around one DER CMS SignedData
	CodeTrailingBytes  = "trailing_bytes"   // bytes after the SOD's DER, or after the security object
	CodeEContentType   = "econtent_type"    // the signed content is not id-icao-mrtd-security-ldsSecurityObject
	CodeSignature      = "signature"        // no single signer, or the signature does not verify
	CodeChain          = "chain"            // the signer does not chain to our CSCA at the time of the check
	CodeDSKeyUsage     = "ds_key_usage"     // the signer's certificate is not a Document Signer's: digitalSignature only, no extendedKeyUsage, not a CA
	CodeSecurityObject = "security_object"  // not an LDS security object v0 (or v1 with its version info) with SHA-256
	CodeNoDataGroups   = "no_data_groups"   // no data group was sent: nothing of the holder is vouched for
	CodeDG1Missing     = "dg1_missing"      // DG1 (the MRZ) was not sent
	CodeDGNotInSOD     = "dg_not_in_sod"    // :DGn, a data group the security object does not hash
	CodeDGHashMismatch = "dg_hash_mismatch" // :DGn, a data group changed since it was signed
	CodeDG2Image       = "dg2_image"        // DG2 holds no face image of a readable type and size (at most MaxPhoto)
	CodeCOMFormat      = "com_format"       // EF.COM was sent and is not one
	CodeCOMMismatch    = "com_mismatch"     // EF.COM lists other data groups (or another LDS version) than the SOD
	CodeDSRevoked      = "ds_revoked"       // the signer was revoked, and this SOD is not one we produced before that
)

// sodParts is what the CMS structure of an EF.SOD holds, read without
// trusting it.
type sodParts struct {
	der          []byte // the CMS ContentInfo, exactly
	version      int    // of SignedData
	eContentType asn1.ObjectIdentifier
	trailing     bool // bytes after the CMS or after tag 77
}

// splitSOD takes tag 77 off and reads the CMS SignedData's version and
// eContentType; the DER must be definite and minimal (encoding/asn1).
func splitSOD(sod []byte) (sodParts, error) {
	var p sodParts
	tag, der, rest, err := readTLV(sod)
	if err != nil || !bytes.Equal(tag, tagSOD) {
		return p, errors.New("not an EF.SOD (tag 77)")
	}
	var outer asn1.RawValue
	r, err := asn1.Unmarshal(der, &outer)
	if err != nil {
		return p, fmt.Errorf("not DER: %w", err)
	}
	p.der, p.trailing = outer.FullBytes, len(rest) > 0 || len(r) > 0
	var ci struct {
		ContentType asn1.ObjectIdentifier
		SignedData  struct {
			Version          int
			DigestAlgorithms asn1.RawValue
			EncapContentInfo struct {
				EContentType asn1.ObjectIdentifier
				EContent     asn1.RawValue `asn1:"optional,explicit,tag:0"`
			}
			Rest asn1.RawValue `asn1:"optional"`
		} `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(p.der, &ci); err != nil || !ci.ContentType.Equal(oidSignedData) {
		return p, errors.New("not CMS SignedData")
	}
	p.version, p.eContentType = ci.SignedData.Version, ci.SignedData.EncapContentInfo.EContentType
	return p, nil
}

// SODInfo is what an EF.SOD states, read without checking its signature.
type SODInfo struct {
	SignedDataVersion     int
	EContentType          asn1.ObjectIdentifier
	SecurityObjectVersion int
	DataGroups            []int // in the security object's order
}

// ParseSOD reads an EF.SOD strictly (no bytes after its DER, the LDS
// security object as eContent with nothing after it) without checking
// its signature: what a reader's tooling would show.
func ParseSOD(sod []byte) (SODInfo, error) {
	p, err := splitSOD(sod)
	if err != nil {
		return SODInfo{}, err
	}
	if p.trailing {
		return SODInfo{}, errors.New("bytes after the SOD's DER")
	}
	p7, err := pkcs7.Parse(p.der)
	if err != nil {
		return SODInfo{}, err
	}
	obj, err := parseSecurityObject(p7.Content)
	if err != nil {
		return SODInfo{}, err
	}
	info := SODInfo{SignedDataVersion: p.version, EContentType: p.eContentType, SecurityObjectVersion: obj.Version}
	for _, h := range obj.Hashes {
		info.DataGroups = append(info.DataGroups, h.Number)
	}
	return info, nil
}

var errTrailingObject = errors.New("bytes after the LDS security object")

// parseSecurityObject reads the LDS security object: version 0, or 1 with
// its LDSVersionInfo; SHA-256; data groups 1–16 once each with 32-byte
// hashes; nothing after it.
func parseSecurityObject(b []byte) (ldsSecurityObject, error) {
	var obj struct {
		Version       int
		HashAlgorithm struct {
			Algorithm  asn1.ObjectIdentifier
			Parameters asn1.RawValue `asn1:"optional"`
		}
		Hashes      []dataGroupHash
		VersionInfo asn1.RawValue `asn1:"optional"`
	}
	rest, err := asn1.Unmarshal(b, &obj)
	switch {
	case err != nil:
		return ldsSecurityObject{}, errors.New("not an LDS security object")
	case len(rest) > 0:
		return ldsSecurityObject{}, errTrailingObject
	case !obj.HashAlgorithm.Algorithm.Equal(oidSHA256):
		return ldsSecurityObject{}, errors.New("the hash algorithm is not SHA-256")
	case obj.Version == 0 && len(obj.VersionInfo.FullBytes) > 0, obj.Version == 1 && len(obj.VersionInfo.FullBytes) == 0, obj.Version < 0 || obj.Version > 1:
		return ldsSecurityObject{}, fmt.Errorf("security object version %d with the wrong version info", obj.Version)
	}
	out := ldsSecurityObject{Version: obj.Version}
	for _, h := range obj.Hashes {
		if h.Number < 1 || h.Number > 16 || len(h.Hash) != sha256.Size || slices.ContainsFunc(out.Hashes, func(o dataGroupHash) bool { return o.Number == h.Number }) {
			return ldsSecurityObject{}, fmt.Errorf("a bad hash entry for data group %d", h.Number)
		}
		out.Hashes = append(out.Hashes, h)
	}
	return out, nil
}

// PassiveAuth verifies what a reader took from a chip: EF.SOD as one DER
// CMS SignedData over an LDS security object, its signature, its Document
// Signer's certificate (a Document Signer's key usage, chained to one of
// our CSCA certificates valid at at), and the hash of every data group
// given, which must include DG1. It returns each check; the card passes
// when all are OK.
func PassiveAuth(sod []byte, groups map[int][]byte, cscas []*x509.Certificate, at time.Time) ([]Check, *x509.Certificate) {
	var checks []Check
	add := func(name string, ok bool, code, detail string) {
		if ok {
			code, detail = "", ""
		}
		checks = append(checks, Check{Name: name, OK: ok, Code: code, Detail: detail})
	}
	// Which data groups were sent is known without the SOD: say so even
	// when the SOD is unreadable.
	switch {
	case len(groups) == 0:
		add("data_groups", false, CodeNoDataGroups, "no data group was sent: a SOD alone vouches for nobody")
	case len(groups[1]) == 0:
		add("data_groups", false, CodeDG1Missing, "DG1 (the MRZ) was not sent")
	default:
		add("data_groups", true, "", "")
	}
	p, err := splitSOD(sod)
	if err != nil {
		add("sod", false, CodeSODFormat, err.Error())
		return checks, nil
	}
	add("sod", !p.trailing, CodeTrailingBytes, "bytes follow the SOD's DER")
	add("econtent_type", p.eContentType.Equal(oidLDSSecurityObject), CodeEContentType,
		fmt.Sprintf("the signed content is %v, not an LDS security object (%v)", p.eContentType, oidLDSSecurityObject))
	p7, err := pkcs7.Parse(p.der)
	if err != nil {
		add("signature", false, CodeSODFormat, "not CMS SignedData: "+err.Error())
		return checks, nil
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		add("signature", false, CodeSignature, "no single signer certificate in the SOD")
		return checks, nil
	}
	if err := p7.Verify(); err != nil {
		add("signature", false, CodeSignature, err.Error())
	} else {
		add("signature", true, "", "")
	}
	pool := x509.NewCertPool()
	for _, c := range cscas {
		pool.AddCert(c)
	}
	if _, err := signer.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		add("chain", false, CodeChain, "the Document Signer does not chain to our CSCA: "+err.Error())
	} else {
		checks = append(checks, Check{Name: "chain", OK: true, Detail: signer.Subject.CommonName})
	}
	// ICAO 9303-12's Document Signer profile: its key usage is
	// digitalSignature only; it has no extended key usage and is no CA.
	add("ds_key_usage", signer.KeyUsage == x509.KeyUsageDigitalSignature && len(signer.ExtKeyUsage) == 0 && len(signer.UnknownExtKeyUsage) == 0 && !signer.IsCA,
		CodeDSKeyUsage, "the signer is not a Document Signer certificate (keyUsage digitalSignature only, no extendedKeyUsage)")
	obj, err := parseSecurityObject(p7.Content)
	if err != nil {
		code := CodeSecurityObject
		if errors.Is(err, errTrailingObject) {
			code = CodeTrailingBytes
		}
		add("security_object", false, code, err.Error())
		return checks, signer
	}
	add("security_object", true, "", "")
	nums := make([]int, 0, len(groups))
	for n := range groups {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	for _, n := range nums {
		name, dg := fmt.Sprintf("dg%d", n), fmt.Sprintf(":DG%d", n)
		i := slices.IndexFunc(obj.Hashes, func(h dataGroupHash) bool { return h.Number == n })
		if i < 0 {
			add(name, false, CodeDGNotInSOD+dg, "not in the security object")
			continue
		}
		h := sha256.Sum256(groups[n])
		if !bytes.Equal(h[:], obj.Hashes[i].Hash) {
			add(name, false, CodeDGHashMismatch+dg, "the hash does not match: the data group was changed")
			continue
		}
		add(name, true, "", "")
	}
	if dg2, ok := groups[2]; ok {
		add("dg2_image", checkDG2(dg2) == nil, CodeDG2Image, fmt.Sprint(checkDG2(dg2)))
	}
	return checks, signer
}

// checkDG2 checks the face image in DG2 as production makes it: a JPEG or
// JPEG 2000 of at most MaxPhoto bytes whose header agrees with the
// record's type, width and height. A record stating 0×0 is from a card
// produced before DG2 stated the size; it is not held against the card.
func checkDG2(dg2 []byte) error {
	img, stated, err := ParseDG2(dg2)
	if err != nil {
		return err
	}
	if len(img) > MaxPhoto {
		return fmt.Errorf("the face image is %d bytes; at most %d", len(img), MaxPhoto)
	}
	info, err := ParseImage(img)
	if err != nil {
		return err
	}
	if stated.Width == 0 && stated.Height == 0 {
		return nil
	}
	if info.Type != stated.Type || info.Width != stated.Width || info.Height != stated.Height {
		return fmt.Errorf("the record states a %v of %d×%d, the image is a %v of %d×%d", stated.Type, stated.Width, stated.Height, info.Type, info.Width, info.Height)
	}
	return nil
}

// CheckCOM checks EF.COM against the SOD: it must list exactly the data
// groups the security object hashes, and the LDS version of the security
// object's version (1.7 for v0).
func CheckCOM(com, sod []byte) Check {
	c, err := ParseCOM(com)
	if err != nil {
		return Check{Name: "com", Code: CodeCOMFormat, Detail: err.Error()}
	}
	s, err := ParseSOD(sod)
	if err != nil {
		return Check{Name: "com", Code: CodeCOMMismatch, Detail: "the SOD cannot be read: " + err.Error()}
	}
	listed, hashed := slices.Sorted(slices.Values(c.DataGroups)), slices.Sorted(slices.Values(s.DataGroups))
	switch {
	case !slices.Equal(listed, hashed):
		return Check{Name: "com", Code: CodeCOMMismatch, Detail: fmt.Sprintf("EF.COM lists data groups %v, the SOD hashes %v", listed, hashed)}
	case s.SecurityObjectVersion == 0 && c.LDSVersion != LDSVersion:
		return Check{Name: "com", Code: CodeCOMMismatch, Detail: fmt.Sprintf("EF.COM states LDS %s, the security object is v0 (LDS %s)", c.LDSVersion, LDSVersion)}
	}
	return Check{Name: "com", OK: true}
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

// FailedCodes are the codes of the checks that failed, in order.
func FailedCodes(checks []Check) []string {
	out := []string{}
	for _, c := range checks {
		if !c.OK {
			out = append(out, c.Code)
		}
	}
	return out
}
