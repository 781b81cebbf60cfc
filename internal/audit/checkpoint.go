package audit

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/dancu-vn/dancu/internal/errs"
)

// Checkpoint is the signed statement "the log called Origin has Size
// entries and this Root": the body of a C2SP tlog-checkpoint, carried in a
// signed note. Anyone holding an earlier checkpoint can ask for a
// consistency proof and see that the log only grew.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// Text is the checkpoint body: origin, size and base64 root hash, each on
// its own line.
func (c Checkpoint) Text() string {
	return fmt.Sprintf("%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
}

// ParseCheckpoint reads a checkpoint body. Extension lines after the root
// hash are allowed by C2SP and ignored here; anything else malformed is
// refused, since the text comes from outside (a file, a NATS message, a
// citizen's proof).
func ParseCheckpoint(text string) (Checkpoint, error) {
	var c Checkpoint
	if !strings.HasSuffix(text, "\n") {
		return c, errs.E(errs.Invalid, "checkpoint: does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return c, errs.E(errs.Invalid, "checkpoint: want origin, size and root hash lines, got %d lines", len(lines))
	}
	c.Origin = lines[0]
	if c.Origin == "" || strings.ContainsAny(c.Origin, " \t\r") {
		return c, errs.E(errs.Invalid, "checkpoint: the origin line is empty or has spaces")
	}
	// Decimal without sign or leading zeros, so that one size has one text.
	s := lines[1]
	if s == "" || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return c, errs.E(errs.Invalid, "checkpoint: tree size %q is not a decimal number", s)
	}
	size, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return c, errs.E(errs.Invalid, "checkpoint: tree size %q is out of range", s)
	}
	c.Size = size
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return c, errs.E(errs.Invalid, "checkpoint: the root hash is not %d bytes of base64", tlog.HashSize)
	}
	copy(c.Root[:], root)
	for _, ext := range lines[3:] {
		if ext == "" {
			return c, errs.E(errs.Invalid, "checkpoint: empty extension line")
		}
	}
	return c, nil
}

// OpenCheckpoint verifies a signed checkpoint note with the given keys and
// returns its checkpoint. A note whose body is not a checkpoint of origin,
// or that no known key signed, is Invalid.
func OpenCheckpoint(msg []byte, origin string, keys note.Verifiers) (Checkpoint, error) {
	n, err := note.Open(msg, keys)
	if err != nil {
		return Checkpoint{}, errs.Wrap(errs.Invalid, err, "checkpoint: the signature does not verify with the log's key")
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return c, err
	}
	if c.Origin != origin {
		return c, errs.E(errs.Invalid, "checkpoint: origin %q, want %q", c.Origin, origin)
	}
	return c, nil
}

// signCheckpoint makes the signed note for c.
func signCheckpoint(c Checkpoint, signer note.Signer) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: c.Text()}, signer)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "sign the audit checkpoint")
	}
	return msg, nil
}

// sameNote reports whether two stored notes are the same bytes, ignoring a
// trailing newline an editor may have added to a file.
func sameNote(a, b []byte) bool {
	return bytes.Equal(bytes.TrimRight(a, "\n"), bytes.TrimRight(b, "\n"))
}
