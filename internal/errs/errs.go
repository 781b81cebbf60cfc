// Package errs defines the error kinds every dancu service returns, so that
// the API, the pages and the CLI can each render them their own way without
// knowing which service produced them.
package errs

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

// The kinds of error. Each maps to one HTTP status in the API.
const (
	Internal        Kind = iota // a bug or an unexpected failure; details are logged, not shown
	Invalid                     // the input is wrong; FieldErrors say where
	NotFound                    // the thing asked for does not exist
	Conflict                    // the request clashes with existing state (duplicate, wrong state)
	Precondition                // an If-Match version no longer matches
	Forbidden                   // the actor is known but may not do this
	Unauthenticated             // no valid credentials
	Unavailable                 // try again later (overload, lock contention, exhausted space)
	TooMany                     // rate limited
)

var kindNames = map[Kind]string{
	Internal: "internal", Invalid: "invalid", NotFound: "not found", Conflict: "conflict",
	Precondition: "precondition failed", Forbidden: "forbidden", Unauthenticated: "unauthenticated",
	Unavailable: "unavailable", TooMany: "too many requests",
}

func (k Kind) String() string { return kindNames[k] }

// FieldError names one field of the input and why it was refused. Field is a
// JSON-path-like location such as "name.given" or "father_pid".
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
	// Format and Args are what Reason was written from, so that a page
	// can say it in the reader's language (locale.Reason).
	Format string `json:"-"`
	Args   []any  `json:"-"`
}

// Error is the error type of the dancu services.
type Error struct {
	Kind   Kind
	Msg    string       // safe to show to the caller
	Fields []FieldError // for Invalid: every refused field
	Err    error        // underlying cause, logged, never shown
	// RetryAfter, for TooMany and Unavailable: when trying again may
	// succeed (the API's Retry-After).
	RetryAfter time.Duration
	// MsgFormat and MsgArgs are what Msg was written from, so that a
	// field error made of this error can be said in another language.
	MsgFormat string
	MsgArgs   []any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Msg)
	for i, f := range e.Fields {
		if i == 0 && e.Msg != "" {
			b.WriteString(": ")
		} else if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Field + ": " + f.Reason)
	}
	if e.Err != nil {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	if b.Len() == 0 {
		return e.Kind.String()
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Later builds an error of the given kind that may succeed when tried
// again after d.
func Later(d time.Duration, k Kind, format string, args ...any) *Error {
	e := E(k, format, args...)
	e.RetryAfter = d
	return e
}

// RetryAfterOf is when err says to try again, or 0.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// E builds an error of the given kind with a message safe to show.
func E(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...), MsgFormat: format, MsgArgs: args}
}

// reasonOf is the format and arguments of a field error's reason: those of
// the message of an *Error given as the one argument of "%s" (a parser's
// error passed on as a field's reason), else as given.
func reasonOf(format string, args []any) (string, []any) {
	if format == "%s" && len(args) == 1 {
		var e *Error
		if err, ok := args[0].(error); ok && errors.As(err, &e) && e.MsgFormat != "" && len(e.Fields) == 0 && e.Err == nil {
			return e.MsgFormat, e.MsgArgs
		}
	}
	return format, args
}

// Wrap builds an error of the given kind around a cause that is not shown to
// the caller.
func Wrap(k Kind, err error, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...), Err: err}
}

// Field builds an Invalid error for a single field.
func Field(field, format string, args ...any) *Error {
	rf, ra := reasonOf(format, args)
	return &Error{Kind: Invalid, Msg: "invalid input", Fields: []FieldError{{Field: field, Reason: fmt.Sprintf(format, args...), Format: rf, Args: ra}}}
}

// KindOf returns the kind of err: the kind of the first *Error in its chain,
// or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// Fields collects field errors; the zero value is ready to use.
type Fields struct{ list []FieldError }

// Add records that field was refused for reason.
func (f *Fields) Add(field, format string, args ...any) {
	rf, ra := reasonOf(format, args)
	f.list = append(f.list, FieldError{Field: field, Reason: fmt.Sprintf(format, args...), Format: rf, Args: ra})
}

// Merge adds the field errors of err, prefixed with prefix, if err is an
// Invalid *Error; any other non-nil error is added under prefix itself.
func (f *Fields) Merge(prefix string, err error) {
	if err == nil {
		return
	}
	var e *Error
	if errors.As(err, &e) && e.Kind == Invalid && len(e.Fields) > 0 {
		for _, fe := range e.Fields {
			name := fe.Field
			if prefix != "" {
				if name == "" {
					name = prefix
				} else {
					name = prefix + "." + name
				}
			}
			f.list = append(f.list, FieldError{Field: name, Reason: fe.Reason, Format: fe.Format, Args: fe.Args})
		}
		return
	}
	reason := err.Error()
	if errors.As(err, &e) && e.Msg != "" {
		reason = e.Msg
	}
	f.list = append(f.list, FieldError{Field: prefix, Reason: reason})
}

// Err returns nil when no field was refused, else an Invalid *Error.
func (f *Fields) Err() error {
	if len(f.list) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Msg: "invalid input", Fields: f.list}
}
