package audit_test

import (
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/dancu-vn/dancu/internal/audit"
)

func TestParseCheckpoint(t *testing.T) {
	root := "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	good := []string{
		"example.com/log\n0\n" + root + "\n",
		"dancu/access-log\n123\n" + root + "\n",
		"dancu/access-log\n123\n" + root + "\nan extension line\n",
	}
	for _, s := range good {
		c, err := audit.ParseCheckpoint(s)
		if err != nil || !strings.HasPrefix(s, c.Text()) {
			t.Errorf("%q: %+v, %v", s, c, err)
		}
	}
	bad := []string{
		"", "dancu/access-log\n123\n" + root, // no final newline
		"dancu/access-log\n123\n",                                // no root
		"\n123\n" + root + "\n",                                  // no origin
		"dancu access log\n123\n" + root + "\n",                  // spaces in the origin
		"dancu/access-log\n0123\n" + root + "\n",                 // leading zero
		"dancu/access-log\n-1\n" + root + "\n",                   // negative
		"dancu/access-log\n+1\n" + root + "\n",                   // sign
		"dancu/access-log\n99999999999999999999\n" + root + "\n", // past int64
		"dancu/access-log\n1\nAAAA\n",                            // short hash
		"dancu/access-log\n1\n" + root[:43] + "_\n",              // not base64
		"dancu/access-log\n1\n" + root + "\n\n",                  // empty extension line
	}
	for _, s := range bad {
		if c, err := audit.ParseCheckpoint(s); err == nil {
			t.Errorf("%q accepted as %+v", s, c)
		}
	}
}

func TestOpenCheckpoint(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "dancu/access-log")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	cp := audit.Checkpoint{Origin: "dancu/access-log", Size: 42, Root: tlog.RecordHash([]byte("x"))}
	msg, err := note.Sign(&note.Note{Text: cp.Text()}, s)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := audit.OpenCheckpoint(msg, "dancu/access-log", note.VerifierList(v)); err != nil || got != cp {
		t.Fatalf("OpenCheckpoint = %+v, %v", got, err)
	}
	if _, err := audit.OpenCheckpoint(msg, "another/log", note.VerifierList(v)); err == nil {
		t.Error("a checkpoint of another origin opened")
	}
	_, other, _ := note.GenerateKey(rand.Reader, "dancu/access-log")
	ov, _ := note.NewVerifier(other)
	if _, err := audit.OpenCheckpoint(msg, "dancu/access-log", note.VerifierList(ov)); err == nil {
		t.Error("a checkpoint opened with another key")
	}
	forged := strings.Replace(string(msg), "\n42\n", "\n43\n", 1)
	if _, err := audit.OpenCheckpoint([]byte(forged), "dancu/access-log", note.VerifierList(v)); err == nil {
		t.Error("a checkpoint with a changed size opened")
	}
}

// FuzzParseCheckpoint: checkpoints come from outside (files, NATS, proofs
// citizens hand back). The parser never panics, and what it accepts is
// the canonical text of what it returns, plus extension lines.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add("dancu/access-log\n123\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")
	f.Add("dancu/access-log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next\n")
	f.Add("a\n01\nAAAA\n")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := audit.ParseCheckpoint(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(s, c.Text()) || c.Size < 0 {
			t.Fatalf("%q parsed as %+v, whose text is %q", s, c, c.Text())
		}
		again, err := audit.ParseCheckpoint(c.Text())
		if err != nil || again != c {
			t.Fatalf("%q: the canonical text does not parse back: %+v, %v", s, again, err)
		}
	})
}
