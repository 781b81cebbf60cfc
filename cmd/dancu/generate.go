package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/synth"
)

// maxDupRate bounds --dup-rate: beyond one person in two, the "legacy"
// data would be more duplicate than population.
const maxDupRate = 0.5

func generateCmd(_ env, stdout, stderr io.Writer) *cobra.Command {
	var (
		cfg            = synth.Config{Count: 1000, Seed: 1}
		format         string
		out, truthPath string
	)
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Write a synthetic population that looks like Viet Nam's, for import and load tests",
		Long: `Write a synthetic population in the format the bulk import reads: households at
real 2025-scheme addresses, names, ages and ethnic groups drawn like Viet Nam's,
and personal ID numbers that agree with each person's birth registration, sex
and year of birth. The same seed gives the same output, byte for byte.

With --dup-rate, some people appear a second time as legacy data holds them
(another number, typing errors, missing fields, the old commune code); --truth
writes the true pairs as CSV (original_pid,duplicate_pid).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := checkGenerateFlags(cfg, format, out, truthPath)
			if err != nil {
				return err
			}
			units, err := adminunit.Load()
			if err != nil {
				return err
			}
			return runGenerate(cmd, cfg, f, units, out, truthPath, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&cfg.Count, "count", cfg.Count, "number of people (duplicates not counted)")
	fl.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed: the same seed gives the same population")
	fl.StringVar(&format, "format", string(synth.JSONL), "output format: jsonl or csv")
	fl.StringVarP(&out, "out", "o", "", "output file (default standard output)")
	fl.Float64Var(&cfg.DupRate, "dup-rate", 0, fmt.Sprintf("share of people who also appear as a noisy legacy duplicate (0–%g)", maxDupRate))
	fl.StringVar(&truthPath, "truth", "", "write the true duplicate pairs to this CSV file")
	return cmd
}

// checkGenerateFlags refuses bad flags with a message naming the flag.
func checkGenerateFlags(cfg synth.Config, format, out, truthPath string) (synth.Format, error) {
	if cfg.Count < 0 {
		return "", fmt.Errorf("--count must be 0 or more, got %d", cfg.Count)
	}
	f, err := synth.ParseFormat(format)
	if err != nil {
		return "", fmt.Errorf("--format must be jsonl or csv, got %q", format)
	}
	if math.IsNaN(cfg.DupRate) || cfg.DupRate < 0 || cfg.DupRate > maxDupRate {
		return "", fmt.Errorf("--dup-rate must be between 0 and %g, got %v", maxDupRate, cfg.DupRate)
	}
	if truthPath != "" && truthPath == out {
		return "", errors.New("--truth and --out must name different files")
	}
	return f, nil
}

// runGenerate writes the population and prints a summary to stderr. Files
// it created are removed when it fails, so that no partial output is left
// to be mistaken for a whole one.
func runGenerate(cmd *cobra.Command, cfg synth.Config, f synth.Format, units *adminunit.Catalog, out, truthPath string, stdout, stderr io.Writer) (err error) {
	var created []*os.File
	open := func(path string) (*os.File, error) {
		file, err := os.Create(path)
		if err == nil {
			created = append(created, file)
		}
		return file, err
	}
	defer func() {
		for _, file := range created {
			if cerr := file.Close(); err == nil && cerr != nil {
				err = cerr
			}
			if err != nil {
				os.Remove(file.Name())
			}
		}
	}()
	dst := stdout
	if out != "" && out != "-" {
		file, err := open(out)
		if err != nil {
			return err
		}
		dst = file
	}
	w, err := synth.NewWriter(dst, f)
	if err != nil {
		return err
	}
	var truth func(string, string) error
	var tw *synth.TruthWriter
	if truthPath != "" {
		file, err := open(truthPath)
		if err != nil {
			return err
		}
		if tw, err = synth.NewTruthWriter(file); err != nil {
			return err
		}
		truth = tw.Pair
	}
	start := time.Now()
	st, err := synth.Generate(cmd.Context(), cfg, units, w.Write, truth)
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if tw != nil {
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stderr, "generated %d people in %d households and %d duplicates: %d records in %.2f s (%.0f rows/s)\n",
		st.People, st.Households, st.Duplicates, st.Records(), secs, float64(st.Records())/max(secs, 1e-9))
	return nil
}
