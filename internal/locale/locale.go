// Package locale holds the texts people read, in Vietnamese (the default)
// and English, and the one way dates and times are written for them:
// dd/mm/yyyy on Vietnam's clock.
package locale

import (
	"fmt"
	"time"

	"github.com/dancu-vn/dancu/internal/workday"
)

// The languages.
const (
	VI = "vi"
	EN = "en"
)

// Parse returns a supported language for s, or "" when it is none.
func Parse(s string) string {
	switch s {
	case VI, EN:
		return s
	}
	return ""
}

// T is the text of key in lang, formatted with args; a key missing in
// English falls back to Vietnamese, and a key missing in both is shown as
// itself (a test keeps the two catalogs equal).
func T(lang, key string, args ...any) string {
	m, ok := catalog[lang][key]
	if !ok {
		m, ok = catalog[VI][key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

// Keys returns the keys of a language's catalog, for tests.
func Keys(lang string) []string {
	var out []string
	for k := range catalog[lang] {
		out = append(out, k)
	}
	return out
}

// Date writes t as dd/mm/yyyy in Vietnam.
func Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return workday.InVietnam(t).Format("02/01/2006")
}

// DateTime writes t as dd/mm/yyyy hh:mm in Vietnam.
func DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return workday.InVietnam(t).Format("02/01/2006 15:04")
}

// CivilDate writes an ISO civil date (YYYY-MM-DD) as dd/mm/yyyy; anything
// else is returned as it is.
func CivilDate(iso string) string {
	t, err := time.Parse("2006-01-02", iso)
	if err != nil {
		return iso
	}
	return t.Format("02/01/2006")
}

// Has reports whether key has a text (in Vietnamese, which every key has).
func Has(key string) bool {
	_, ok := catalog[VI][key]
	return ok
}

// Label is the text of prefix+name when there is one, else name itself:
// for codes and field names that may have no text yet.
func Label(lang, prefix, name string) string {
	if Has(prefix + name) {
		return T(lang, prefix+name)
	}
	return name
}

// Both is the text of key in Vietnamese, then a line with its English:
// for a notice sent before its reader's language is known.
func Both(key string, args ...any) string {
	return T(VI, key, args...) + "\n" + T(EN, key, args...)
}
