package locale_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dancu-vn/dancu/internal/locale"
)

// serviceReasons are the formats of the field errors the services write:
// the string literal given to errs.Field and to errs.Fields.Add (any
// method Add called with a literal second argument), by where it is.
func serviceReasons(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok || len(c.Args) < 2 {
				return true
			}
			sel, ok := c.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, _ := sel.X.(*ast.Ident)
			// The personal ID number's parse errors become fields'
			// reasons (errs.Field(f, "%s", err)).
			parser := sel.Sel.Name == "E" && pkg != nil && pkg.Name == "errs" && strings.Contains(filepath.ToSlash(path), "/personalid/")
			if !(sel.Sel.Name == "Field" && pkg != nil && pkg.Name == "errs") && sel.Sel.Name != "Add" && !parser {
				return true
			}
			if lit, ok := c.Args[1].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				v, _ := strconv.Unquote(lit.Value)
				out[v] = fset.Position(c.Pos()).String()
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 200 {
		t.Fatalf("only %d reasons found: the scan is broken", len(out))
	}
	return out
}

// Every reason a service writes can be read in Vietnamese: a page shows
// it in the officer's or citizen's language.
func TestEveryReasonHasVietnamese(t *testing.T) {
	for format, where := range serviceReasons(t) {
		if format == "%s" || format == "%v" {
			continue // passes on a message written elsewhere
		}
		if !locale.HasReason(format) {
			t.Errorf("%s: no Vietnamese for the reason %q (internal/locale/messages_reasons.go)", where, format)
		}
	}
}

var verb = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// argsFor gives a format's verbs distinct arguments of their types.
func argsFor(format string) []any {
	var args []any
	for i, v := range verb.FindAllString(format, -1) {
		switch v[len(v)-1] {
		case '%':
			continue
		case 'd':
			args = append(args, 9100+i)
		case 'c':
			args = append(args, rune('Ж'+i)) // a letter no text holds
		default:
			args = append(args, fmt.Sprintf("arg%d", i))
		}
	}
	return args
}

// The Vietnamese of a reason uses every argument of the English, each
// once, with no verb left over.
func TestReasonsUseTheirArguments(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range locale.ReasonPairs() {
		en, vi := p[0], p[1]
		if seen[en] {
			t.Errorf("%q is given twice", en)
		}
		seen[en] = true
		if vi == "" || vi == en {
			t.Errorf("%q has no Vietnamese", en)
			continue
		}
		args := argsFor(en)
		got := locale.Reason(locale.VI, en, args, "")
		if strings.Contains(got, "%!") {
			t.Errorf("%q → %q: the verbs differ: %s", en, vi, got)
		}
		for _, a := range args {
			shown := fmt.Sprint(a)
			if r, ok := a.(rune); ok {
				shown = string(r)
			}
			if n := strings.Count(got, shown); n != 1 {
				t.Errorf("%q → %q: argument %v shown %d times in %q", en, vi, a, n, got)
			}
		}
		if e := locale.Reason(locale.EN, en, args, "as written"); e != "as written" {
			t.Errorf("English is the reason as the service wrote it, got %q", e)
		}
	}
}
