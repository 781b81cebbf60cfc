package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dancu-vn/dancu/internal/bulk"
	"github.com/dancu-vn/dancu/internal/registry"
)

func TestGenerateRefusesBadFlags(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--count", "-1"}, "--count"},
		{[]string{"--count", "many"}, "--count"},
		{[]string{"--format", "xml"}, "--format"},
		{[]string{"--dup-rate", "2"}, "--dup-rate"},
		{[]string{"--dup-rate", "-0.1"}, "--dup-rate"},
		{[]string{"--dup-rate", "NaN"}, "--dup-rate"},
		{[]string{"--seed", "-3"}, "--seed"},
		{[]string{"--out", filepath.Join(dir, "x"), "--truth", filepath.Join(dir, "x")}, "--truth"},
	} {
		out, _, err := runCLI(t, nil, append([]string{"generate"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.flag) {
			t.Errorf("generate %v: %v, want an error naming %s", c.args, err, c.flag)
		}
		if out != "" {
			t.Errorf("generate %v wrote %d bytes before failing", c.args, len(out))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); !os.IsNotExist(err) {
		t.Errorf("a refused command created its output: %v", err)
	}
}

func TestGenerateFiles(t *testing.T) {
	dir := t.TempDir()
	people, truth := filepath.Join(dir, "people.jsonl"), filepath.Join(dir, "truth.csv")
	out, errOut, err := runCLI(t, nil, "generate", "--count", "2000", "--seed", "4", "--dup-rate", "0.1", "--out", people, "--truth", truth)
	if err != nil {
		t.Fatal(err)
	}
	if out != "" || !strings.Contains(errOut, "generated 2000 people in ") || !strings.Contains(errOut, "rows/s") {
		t.Fatalf("stdout %q, summary %q", out, errOut)
	}
	data, err := os.ReadFile(people)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	pids := map[string]bool{}
	for i, l := range lines {
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		var r registry.LegacyRecord
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		pids[r.PID] = true
	}
	pairs := readCSV(t, truth)
	if len(pairs) < 2 || strings.Join(pairs[0], ",") != "original_pid,duplicate_pid" {
		t.Fatalf("truth file starts %v", pairs[:min(len(pairs), 1)])
	}
	if len(lines) != 2000+len(pairs)-1 || len(pids) != len(lines) {
		t.Fatalf("%d lines, %d distinct numbers, %d pairs", len(lines), len(pids), len(pairs)-1)
	}
	for _, p := range pairs[1:] {
		if !pids[p[0]] || !pids[p[1]] {
			t.Fatalf("pair %v not in the output", p)
		}
	}
	if !strings.Contains(errOut, "duplicates: "+strconv.Itoa(2000+len(pairs)-1)+" records") {
		t.Errorf("summary %q does not count %d duplicates", errOut, len(pairs)-1)
	}
	// The same seed gives the same file.
	again := filepath.Join(dir, "again.jsonl")
	if _, _, err := runCLI(t, nil, "generate", "--count", "2000", "--seed", "4", "--dup-rate", "0.1", "--out", again); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(again); !bytes.Equal(b, data) {
		t.Error("the same seed gave another file")
	}
}

func TestGenerateCSVToStdout(t *testing.T) {
	dir := t.TempDir()
	truth := filepath.Join(dir, "truth.csv")
	out, errOut, err := runCLI(t, nil, "generate", "--count", "50", "--format", "csv", "--truth", truth)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 51 || strings.Join(rows[0], ",") != strings.Join(bulk.CSVHeader(), ",") {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	if !strings.Contains(errOut, "generated 50 people") {
		t.Errorf("summary %q", errOut)
	}
	// --truth without duplicates writes the header alone.
	if pairs := readCSV(t, truth); len(pairs) != 1 {
		t.Errorf("truth file without --dup-rate has %d rows", len(pairs))
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
