package bulk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// readChunks splits the input into rows, a chunk at a time, and hands each
// chunk to send (which returns false to stop). A row that cannot even be
// split (a line too long, broken CSV quoting) becomes a row with an error,
// so it is rejected like any other bad row. Only an unreadable input or a
// wrong CSV header stops the import.
func readChunks(ctx context.Context, r io.Reader, format string, send func(*chunk) bool) error {
	switch format {
	case "", "jsonl", "json":
		return readJSONLines(ctx, r, send)
	case "csv":
		return readCSV(ctx, r, send)
	}
	return fmt.Errorf("unknown format %q: want jsonl or csv", format)
}

func newChunk() *chunk {
	return &chunk{rows: make([]rawRow, 0, chunkRows), done: make(chan struct{})}
}

func readJSONLines(ctx context.Context, r io.Reader, send func(*chunk) bool) error {
	br := bufio.NewReaderSize(r, MaxLine)
	c := newChunk()
	var line int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := br.ReadSlice('\n')
		if len(b) > 0 || err == nil {
			line++
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			// Skip the rest of an over-long line.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			c.rows = append(c.rows, rawRow{line: line, err: fmt.Errorf("line is longer than %d bytes", MaxLine)})
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
		case err != nil && !errors.Is(err, io.EOF):
			return fmt.Errorf("read line %d: %w", line+1, err)
		default:
			if t := bytes.TrimSpace(b); len(t) > 0 {
				c.rows = append(c.rows, rawRow{line: line, data: bytes.Clone(t)})
			}
		}
		if len(c.rows) == chunkRows || (errors.Is(err, io.EOF) && len(c.rows) > 0) {
			if !send(c) {
				return ctx.Err()
			}
			c = newChunk()
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
	}
}

func readCSV(ctx context.Context, r io.Reader, send func(*chunk) bool) error {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<20))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("CSV header: %w", err)
	}
	mapping, err := NewCSVReader(header)
	if err != nil {
		return err
	}
	c := newChunk()
	c.csv = mapping
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			c.rows = append(c.rows, rawRow{line: int64(pe.StartLine), err: fmt.Errorf("broken CSV: %v", pe.Err)})
		case err != nil:
			return fmt.Errorf("read CSV line %d: %w", line, err)
		default:
			c.rows = append(c.rows, rawRow{line: int64(line), fields: rec})
		}
		if len(c.rows) == chunkRows {
			if !send(c) {
				return ctx.Err()
			}
			c = newChunk()
			c.csv = mapping
		}
	}
	if len(c.rows) > 0 && !send(c) {
		return ctx.Err()
	}
	return nil
}
