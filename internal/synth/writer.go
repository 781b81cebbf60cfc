package synth

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"

	"github.com/dancu-vn/dancu/internal/bulk"
	"github.com/dancu-vn/dancu/internal/registry"
)

// Format is an output format of records.
type Format string

// The formats: JSON Lines carries every field, CSV the flat columns of
// bulk.CSVHeader; both are what the bulk import reads.
const (
	JSONL Format = "jsonl"
	CSV   Format = "csv"
)

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case JSONL, CSV:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q: jsonl or csv", s)
}

// bufSize is the output buffer: large writes keep a million records a
// matter of seconds.
const bufSize = 512 << 10

// Writer writes records in one format through a buffer. Call Flush at the
// end.
type Writer struct {
	format Format
	bw     *bufio.Writer
	cw     *csv.Writer
}

// NewWriter returns a writer of records to w. A CSV writer writes the
// header first.
func NewWriter(w io.Writer, f Format) (*Writer, error) {
	if _, err := ParseFormat(string(f)); err != nil {
		return nil, err
	}
	out := &Writer{format: f, bw: bufio.NewWriterSize(w, bufSize)}
	if f == CSV {
		out.cw = csv.NewWriter(out.bw)
		if err := out.cw.Write(bulk.CSVHeader()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Write writes one record: in JSON Lines, the record as encoding/json
// would write it, on one line.
func (w *Writer) Write(r *registry.LegacyRecord) error {
	if w.cw != nil {
		return w.cw.Write(bulk.ToCSV(r))
	}
	b := appendRecord(w.bw.AvailableBuffer(), r)
	b = append(b, '\n')
	_, err := w.bw.Write(b)
	return err
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error {
	if w.cw != nil {
		w.cw.Flush()
		if err := w.cw.Error(); err != nil {
			return err
		}
	}
	return w.bw.Flush()
}

// TruthHeader is the header of the file of true duplicate pairs.
var TruthHeader = []string{"original_pid", "duplicate_pid"}

// TruthWriter writes the true duplicate pairs as CSV with TruthHeader.
type TruthWriter struct {
	bw *bufio.Writer
	cw *csv.Writer
}

// NewTruthWriter writes the header and returns the writer.
func NewTruthWriter(w io.Writer) (*TruthWriter, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	t := &TruthWriter{bw: bw, cw: csv.NewWriter(bw)}
	return t, t.cw.Write(TruthHeader)
}

// Pair writes one pair; its signature is Generate's truth.
func (t *TruthWriter) Pair(original, duplicate string) error {
	return t.cw.Write([]string{original, duplicate})
}

// Flush writes out what is buffered.
func (t *TruthWriter) Flush() error {
	t.cw.Flush()
	if err := t.cw.Error(); err != nil {
		return err
	}
	return t.bw.Flush()
}
