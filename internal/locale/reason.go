package locale

import "fmt"

// reasonVI is the Vietnamese of the services' field-error reasons, by the
// English format they were written from (errs.FieldError.Format); the
// arguments are the same, in the same order.
var reasonVI = func() map[string]string {
	m := make(map[string]string, len(reasonMessages))
	for _, r := range reasonMessages {
		m[r[0]] = r[1]
	}
	return m
}()

// Reason says a field error's reason in lang: written from its Vietnamese
// format when lang is Vietnamese and the format has one, else the English
// reason as the service wrote it.
func Reason(lang, format string, args []any, english string) string {
	if lang == EN || format == "" {
		return english
	}
	vi, ok := reasonVI[format]
	if !ok {
		return english
	}
	return fmt.Sprintf(vi, args...)
}

// HasReason reports whether a reason's format has its Vietnamese, for
// tests.
func HasReason(format string) bool {
	_, ok := reasonVI[format]
	return ok
}

// ReasonPairs returns the English and Vietnamese formats, for tests.
func ReasonPairs() [][2]string { return append([][2]string(nil), reasonMessages...) }
