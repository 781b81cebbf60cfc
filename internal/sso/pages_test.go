package sso

import (
	"io/fs"
	"os"
	"regexp"
	"testing"

	"github.com/dancu-vn/dancu/internal/locale"
)

// TestEveryTextIsTranslated: every message key the templates and the code
// use exists in Vietnamese and in English (internal/locale keeps the two
// side by side).
func TestEveryTextIsTranslated(t *testing.T) {
	used := map[string]bool{}
	keyInTemplate := regexp.MustCompile(`t \.Lang "([a-z_.]+)"|t \$\.Lang "([a-z_.]+)"`)
	keyInCode := regexp.MustCompile(`translate\([a-zA-Z.]+, "([a-z_.]+)"\)`)
	fs.WalkDir(templateFiles, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(templateFiles, path)
		for _, m := range keyInTemplate.FindAllStringSubmatch(string(b), -1) {
			used[m[1]+m[2]] = true
		}
		return nil
	})
	code, err := os.ReadFile("pages.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range keyInCode.FindAllStringSubmatch(string(code), -1) {
		used[m[1]] = true
	}
	for _, sc := range knownScopes {
		used["claim."+sc] = true
	}
	if len(used) < 20 {
		t.Fatalf("found only %d keys: the patterns are stale", len(used))
	}
	for key := range used {
		if !locale.Has("sso." + key) {
			t.Errorf("%s has no text", key)
			continue
		}
		for _, lang := range []string{locale.VI, locale.EN} {
			if translate(lang, key) == "" {
				t.Errorf("%s has no %s text", key, lang)
			}
		}
	}
}
