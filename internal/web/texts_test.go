package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/locale"
)

// Every text a page names has a Vietnamese and an English text: the
// literal keys of the templates and handlers, and the keys made from a
// prefix and a value the pages show.
func TestEveryTextHasBothLanguages(t *testing.T) {
	literal := regexp.MustCompile(`\.T "([a-zA-Z0-9_.]+)"|tr\(r, "([a-zA-Z0-9_.]+)"|(?:Label|Hint|Legend|Title|Text): "([a-z0-9_.]+\.[a-z0-9_.]+)"|\{"(group\.[a-z_]+)"`)
	keys := map[string]string{}
	scan := func(name string, b []byte) {
		for _, m := range literal.FindAllSubmatch(b, -1) {
			for _, g := range m[1:] {
				if len(g) > 0 {
					keys[string(g)] = name
				}
			}
		}
	}
	fs.WalkDir(templateFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := templateFiles.ReadFile(p)
			scan(p, b)
		}
		return nil
	})
	goFiles, _ := filepath.Glob("*.go")
	for _, f := range goFiles {
		b, _ := os.ReadFile(f)
		scan(f, b)
	}
	for _, st := range []dossier.State{dossier.Submitted, dossier.Received, dossier.InfoRequested, dossier.Approved, dossier.Refused, dossier.Returned, dossier.Withdrawn} {
		keys["dstate."+string(st)] = "dossier states"
	}
	for _, p := range []string{"status.alive", "status.dead", "status.missing", "status.set.dead", "status.set.missing", "status.set.alive",
		"sex.male", "sex.female", "role.admin", "role.registrar", "role.viewer", "card.status.active", "card.status.lost",
		"card.status.revoked", "card.status.expired", "card.status.superseded", "eid.state.approved", "eid.state.active",
		"eid.state.locked", "eid.state.revoked", "result.title.CT04", "result.title.CT05", "result.title.CT06", "result.title.CT07",
		"dossier.done.receive", "dossier.done.request_info", "dossier.done.approve", "dossier.done.refuse",
		"cardq.state.submitted", "cardq.state.approved", "cardq.state.produced", "work.done.approve", "work.done.reject", "work.done.delivered"} {
		keys[p] = "values shown"
	}
	if len(keys) < 100 {
		t.Fatalf("only %d keys found: the scan is broken", len(keys))
	}
	for k, where := range keys {
		if !locale.Has(k) {
			t.Errorf("%s: no text for %q", where, k)
			continue
		}
		if locale.T(locale.EN, k) == "" || locale.T(locale.VI, k) == "" {
			t.Errorf("%s: %q is empty in a language", where, k)
		}
	}
}

// The route table makes one mux: no two patterns clash.
func TestRoutesMount(t *testing.T) {
	s, err := New(Deps{})
	if err != nil {
		t.Fatal(err)
	}
	s.Handler()
	if len(s.Mounts()) == 0 {
		t.Fatal("no mounts")
	}
}
