package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/bulk"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/server"
)

func exportCmd(getenv env, stdout, stderr io.Writer) *cobra.Command {
	cfg := server.DefaultConfig()
	var format, out string
	var f registry.ExportFilter
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export the registry, or part of it, as JSON Lines or CSV",
		Long: "Stream the registry in personal ID order in the form dancu import reads. Every exported person\n" +
			"is recorded in the access log.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if format != "jsonl" && format != "csv" {
				return fmt.Errorf("--format: %q is not jsonl or csv", format)
			}
			if f.BirthYear < 0 {
				return fmt.Errorf("--birth-year: must be a year")
			}
			ctx := c.Context()
			app, _, err := openApp(ctx, cfg, stderr)
			if err != nil {
				return err
			}
			defer app.Close()
			w := stdout
			if out != "" && out != "-" {
				file, err := os.Create(out)
				if err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				defer file.Close()
				w = file
			}
			bw := bufio.NewWriterSize(w, 256<<10)
			var emit func(*registry.LegacyRecord) error
			flush := bw.Flush
			if format == "csv" {
				cw := csv.NewWriter(bw)
				if err := cw.Write(bulk.CSVHeader()); err != nil {
					return err
				}
				emit = func(r *registry.LegacyRecord) error { return cw.Write(bulk.ToCSV(r)) }
				flush = func() error {
					cw.Flush()
					if err := cw.Error(); err != nil {
						return err
					}
					return bw.Flush()
				}
			} else {
				enc := json.NewEncoder(bw)
				enc.SetEscapeHTML(false)
				emit = func(r *registry.LegacyRecord) error { return enc.Encode(r) }
			}
			start := time.Now()
			n, err := app.Registry.Export(actor.With(ctx, actor.SystemActor("export")), f, emit)
			if ferr := flush(); err == nil {
				err = ferr
			}
			fmt.Fprintf(stderr, "exported %d people in %.1fs\n", n, time.Since(start).Seconds())
			return err
		},
	}
	storeFlags(cmd, &cfg, getenv)
	cmd.Flags().StringVar(&format, "format", "jsonl", "jsonl or csv")
	cmd.Flags().StringVar(&out, "out", "", "output file (default standard output)")
	cmd.Flags().StringVar(&f.Province, "province", "", "only permanent residents of this current province code")
	cmd.Flags().StringVar(&f.Commune, "commune", "", "only permanent residents of this current commune code")
	cmd.Flags().IntVar(&f.BirthYear, "birth-year", 0, "only people born in this year")
	return cmd
}
