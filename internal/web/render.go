package web

import (
	"bytes"
	"encoding/hex"
	"html/template"
	"net/http"
	"time"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/locale"
)

var funcs = template.FuncMap{
	"date":     locale.Date,
	"datetime": locale.DateTime,
	"civil":    locale.CivilDate,
	"datep": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return locale.Date(*t)
	},
	"list": func(xs ...any) []any { return xs },
	"hex":  func(b []byte) string { return hex.EncodeToString(b) },
	"neg":  func(n int) int { return -n },
	"add":  func(a, b int) int { return a + b },
	"unixdate": func(sec int64) string {
		return locale.Date(time.Unix(sec, 0))
	},
	"fieldKey": fieldLabel,
	"dformKey": func(name string) string {
		if locale.Has("dform." + name) {
			return "dform." + name
		}
		return fieldLabel(name)
	},
}

// view is what every template gets: the page's data and what the layout
// needs (language, the officer, the CSRF token).
type view struct {
	Lang string
	Me   *actor.Actor
	// Citizen is the citizen signed in to the portal.
	Citizen *actor.Actor
	CSRF    string
	Path    string
	Query   string
	Title   string
	Data    any
	units   *adminunit.Catalog
	codes   *codelist.Lists
}

// CodeName is a code of a code list written out ("code – name" when the
// list has it, else the code): lists religion, marital, household.
func (v view) CodeName(list, code string) string {
	if v.codes == nil || code == "" {
		return code
	}
	var l *codelist.List
	switch list {
	case "religion":
		l = v.codes.Religion
	case "marital":
		l = v.codes.MaritalStatus
	case "household":
		l = v.codes.HouseholdRel
	}
	if l != nil {
		if n, ok := l.Name(code); ok {
			return n
		}
	}
	return code
}

// T is a text in the page's language.
func (v view) T(key string, args ...any) string { return locale.T(v.Lang, key, args...) }

// Purpose says an access record's purpose in the page's language when the
// platform wrote it, or as the reader (an officer, an agency) gave it.
func (v view) Purpose(p string) string {
	if locale.Has("purpose." + p) {
		return v.T("purpose." + p)
	}
	return p
}

// SectorKind names a kind of sector document.
func (v view) SectorKind(k string) string {
	if locale.Has("sector.kind." + k) {
		return v.T("sector.kind." + k)
	}
	return k
}

// StepNote says a note the platform wrote on a dossier's step in the
// page's language; an officer's own note is shown as written.
func (v view) StepNote(n string) string {
	if locale.Has("stepnote." + n) {
		return v.T("stepnote." + n)
	}
	return n
}

// Action names an access record's action for a citizen, or shows its code.
func (v view) Action(a string) string {
	if locale.Has("portal.act." + a) {
		return v.T("portal.act." + a)
	}
	if locale.Has("action." + a) {
		return v.T("action." + a)
	}
	return a
}

// Unit is the full name of a unit code (a current commune or a province;
// a pre-2025 commune is named with what it became), or the code.
func (v view) Unit(code string) string {
	if v.units == nil || code == "" {
		return code
	}
	if len(code) == 2 {
		if u, ok := v.units.Province(adminunit.Scheme2025, code); ok {
			return u.FullName()
		}
	}
	if u, ok := v.units.Commune(adminunit.Scheme2025, code); ok {
		if p, ok := v.units.Province(adminunit.Scheme2025, u.Province); ok {
			return u.FullName() + ", " + p.FullName()
		}
		return u.FullName()
	}
	if u, ok := v.units.Current(code); ok {
		return u.FullName()
	}
	return code
}

// place names a commune of a scheme ("2022" for a pre-2025 commune, named
// with what it became).
func (v view) place(scheme, code string) string {
	if v.units == nil {
		return code
	}
	if scheme == string(adminunit.Scheme2022) {
		if u, ok := v.units.Commune(adminunit.Scheme2022, code); ok {
			name := u.FullName()
			if c, ok := v.units.Current(code); ok {
				name += " (" + v.T("record.now") + " " + c.FullName() + ")"
			}
			return name
		}
		return code
	}
	return v.Unit(code)
}

// Other is the other language, for the switch.
func (v view) Other() string {
	if v.Lang == locale.EN {
		return locale.VI
	}
	return locale.EN
}

// view is what a page of this request is rendered with.
func (s *Web) view(r *http.Request) view {
	v := view{Lang: langOf(r), Me: me(r), CSRF: csrfToken(r), Path: r.URL.Path, Query: r.URL.RawQuery}
	if a, ok := actor.From(r.Context()); ok && a.Kind == actor.Citizen {
		v.Citizen = a
	}
	if s.Registry != nil {
		v.units, v.codes = s.Registry.Units(), s.Registry.Codes()
	}
	return v
}

func (s *Web) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	v := s.view(r)
	v.Data = data
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, name, v); err != nil {
		s.Log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// formErrors are a form's errors by field, in the order shown in the
// error summary.
type formErrors struct {
	List []fieldError
	by   map[string]string
}

type fieldError struct{ Field, Message string }

func (f *formErrors) add(field, msg string) {
	if f.by == nil {
		f.by = map[string]string{}
	}
	if _, ok := f.by[field]; ok {
		return
	}
	f.by[field] = msg
	f.List = append(f.List, fieldError{field, msg})
}

// Of is the error of one field, "" when it has none.
func (f *formErrors) Of(field string) string {
	if f == nil {
		return ""
	}
	return f.by[field]
}

// Any reports whether the form has errors.
func (f *formErrors) Any() bool { return f != nil && len(f.List) > 0 }
