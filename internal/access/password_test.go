package access_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/errs"
)

func TestHashPasswordRoundTrip(t *testing.T) {
	h := access.HashPassword(goodPassword)
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Errorf("hash %q is not an argon2id PHC string", h)
	}
	if strings.Contains(h, goodPassword) {
		t.Errorf("hash %q contains the password", h)
	}
	if !access.VerifyPassword(h, goodPassword) {
		t.Error("the password does not verify against its own hash")
	}
	for _, wrong := range []string{"", "mật-khẩu-2025", goodPassword + " ", goodPassword[:len(goodPassword)-1]} {
		if access.VerifyPassword(h, wrong) {
			t.Errorf("wrong password %q verifies", wrong)
		}
	}
	if h2 := access.HashPassword(goodPassword); h2 == h {
		t.Errorf("two hashes of the same password are equal (%q): no salt", h)
	}
}

// phc encodes an argon2id key in the PHC format with the given parameters.
func phc(password, salt string, m, t uint32, p uint8) string {
	key := argon2.IDKey([]byte(password), []byte(salt), t, m, p, 32)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p,
		base64.RawStdEncoding.EncodeToString([]byte(salt)), base64.RawStdEncoding.EncodeToString(key))
}

// The parameters travel with each hash, so hashes made with other (older or
// cheaper) parameters still verify.
func TestVerifyPasswordStoredParameters(t *testing.T) {
	h := phc("Abcdef1!", "0123456789abcdef", 64, 1, 2)
	if !access.VerifyPassword(h, "Abcdef1!") {
		t.Errorf("hash with m=64,t=1,p=2 does not verify")
	}
	if access.VerifyPassword(h, "Abcdef1?") {
		t.Errorf("wrong password verifies against hash with m=64,t=1,p=2")
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	real := access.HashPassword(goodPassword)
	parts := strings.Split(real, "$")
	key := parts[5]
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	flipped := []byte(key)
	if flipped[0] == 'A' {
		flipped[0] = 'B'
	} else {
		flipped[0] = 'A'
	}
	for name, enc := range map[string]string{
		"empty":              "",
		"plain text":         goodPassword,
		"only prefix":        "$argon2id$",
		"bcrypt":             "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":            with(1, "argon2i"),
		"no leading dollar":  strings.TrimPrefix(real, "$"),
		"missing key":        strings.Join(parts[:5], "$"),
		"extra part":         real + "$AAAA",
		"params garbage":     with(3, "m=abc,t=2,p=1"),
		"params empty":       with(3, ""),
		"m zero":             with(3, "m=0,t=2,p=1"),
		"t zero":             with(3, "m=19456,t=0,p=1"),
		"p zero":             with(3, "m=19456,t=2,p=0"),
		"p overflows uint8":  with(3, "m=19456,t=2,p=256"),
		"m negative":         with(3, "m=-1,t=2,p=1"),
		"m absurd":           with(3, "m=4294967295,t=2,p=1"),
		"t absurd":           with(3, "m=19456,t=1000000,p=1"),
		"salt not base64":    with(4, "!!!not base64!!!"),
		"key not base64":     with(5, "!!!"),
		"key padded base64":  with(5, key+"="),
		"key empty":          with(5, ""),
		"key wrong":          with(5, string(flipped)),
		"key truncated":      with(5, key[:len(key)-4]),
		"salt of other hash": with(4, strings.Split(access.HashPassword(goodPassword), "$")[4]),
	} {
		t.Run(name, func(t *testing.T) {
			if access.VerifyPassword(enc, goodPassword) {
				t.Errorf("VerifyPassword(%q) = true", enc)
			}
		})
	}
}

func TestCheckPasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"Abcdef1!", true},
		{"Abcde1!", false},                             // 7 characters
		{"", false},                                    // empty
		{"Aa1!" + strings.Repeat("x", 60), true},       // 64 characters
		{"Aa1!" + strings.Repeat("x", 61), false},      // 65 characters
		{"abcdef1!", false},                            // no upper case
		{"ABCDEF1!", false},                            // no lower case
		{"Abcdefg!", false},                            // no digit
		{"Abcdefg1", false},                            // no special character
		{"Abc def1", true},                             // a space is special
		{"Abcdef1€", true},                             // a currency symbol is special
		{goodPassword, true},                           // Vietnamese letters
		{"Đặng-Văn-7", true},                           // upper-case Đ counts
		{"đặng-văn-7", false},                          // no upper case, only Vietnamese lower case
		{"ĐẶNG-VĂN-7", false},                          // no lower case
		{"Đặ-1ặặặặ", true},                             // 8 characters in 14 bytes
		{"Đặ-1ặặặ", false},                             // 7 characters in 12 bytes
		{"Đặ-1" + strings.Repeat("ặ", 60), true},       // 64 characters in 187 bytes
		{"Đặ-1" + strings.Repeat("ặ", 61), false},      // 65 characters
		{"Abcdef١!", true},                             // any Unicode digit counts, here Arabic-Indic one
		{"Abcdefg\t", false},                           // a tab is not special
		{"Аbcdef1!", true},                             // Cyrillic А is an upper-case letter
		{strings.Repeat("Aa1!", 16), true},             // 64
		{strings.Repeat("Aa1!", 16) + "A", false},      // 65
		{"        ", false},                            // spaces only
		{"Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!", true}, // 36
	} {
		err := access.CheckPasswordPolicy(tc.pw)
		switch {
		case tc.ok && err != nil:
			t.Errorf("CheckPasswordPolicy(%q) = %v, want nil", tc.pw, err)
		case !tc.ok && err == nil:
			t.Errorf("CheckPasswordPolicy(%q) = nil, want an error", tc.pw)
		case !tc.ok:
			wantField(t, err, "password")
		}
	}
}

func TestRandomPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		pw := access.RandomPassword()
		if err := access.CheckPasswordPolicy(pw); err != nil {
			t.Fatalf("RandomPassword() = %q, which fails the policy: %v", pw, err)
		}
		if seen[pw] {
			t.Fatalf("RandomPassword() repeated %q", pw)
		}
		seen[pw] = true
	}
	if errs.KindOf(access.CheckPasswordPolicy("x")) != errs.Invalid {
		t.Fatal("a one-letter password is not Invalid")
	}
}
