package access

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/crypto/argon2"

	"github.com/dancu-vn/dancu/internal/errs"
)

// Argon2id parameters: OWASP's second recommended set (19 MiB, 2 passes, 1
// lane), about 25–40 ms per hash on one core of the reference machine. They
// are stored with every hash, so they can be raised without a migration.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// VerifyPassword reports whether password matches an encoded hash from
// HashPassword, in time independent of where they differ.
func VerifyPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<22 || t > 64 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is verified against when a username does not exist, so that a
// login for an unknown user takes as long as one for a known user.
var dummyHash = HashPassword("dancu-timing-equaliser")

// CheckPasswordPolicy enforces the password rule of the e-identity decree
// for officers too: 8–64 characters with upper case, lower case, a digit and
// a special character.
func CheckPasswordPolicy(pw string) error {
	n := len([]rune(pw))
	var upper, lower, digit, special bool
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsPunct(r) || unicode.IsSymbol(r) || r == ' ':
			special = true
		}
	}
	switch {
	case n < 8 || n > 64:
		return errs.Field("password", "must be 8 to 64 characters long, got %d", n)
	case !upper || !lower || !digit || !special:
		return errs.Field("password", "must contain an upper-case letter, a lower-case letter, a digit and a special character")
	}
	return nil
}

// RandomPassword returns a password that meets the policy, for bootstrap
// and demo accounts.
func RandomPassword() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "Dc-" + base64.RawURLEncoding.EncodeToString(b) + "9a"
}
