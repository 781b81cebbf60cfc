package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/bulk"
	"github.com/dancu-vn/dancu/internal/server"
)

func importCmd(getenv env, stdout, stderr io.Writer) *cobra.Command {
	cfg := server.DefaultConfig()
	var format, rejects string
	var batch, cacheMB int
	var quiet, deferIndexes bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import people from existing data (JSON Lines or CSV; - for standard input)",
		Long: "Import people with the personal ID numbers they already hold. Every row is validated with the\n" +
			"rules of the API; a bad row goes to the reject file (line, field, reason) and never stops the\n" +
			"import. Numbers already registered are left alone, so importing a file twice changes nothing and\n" +
			"an interrupted import completes when run again.",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			in, size, name, err := openInput(args[0], c.InOrStdin())
			if err != nil {
				return err
			}
			defer in.Close()
			if format == "" {
				format = "jsonl"
				if strings.HasSuffix(strings.ToLower(name), ".csv") {
					format = "csv"
				}
			}
			if format != "jsonl" && format != "csv" {
				return fmt.Errorf("--format: %q is not jsonl or csv", format)
			}
			if rejects == "" {
				rejects = "import-rejects.jsonl"
				if name != "-" {
					rejects = name + ".rejects.jsonl"
				}
			}
			rf, err := os.Create(rejects)
			if err != nil {
				return fmt.Errorf("--rejects: %w", err)
			}
			defer rf.Close()
			start := time.Now()
			cfg.BulkLoad = true
			app, log, err := openApp(ctx, cfg, stderr)
			if err != nil {
				return err
			}
			defer app.Close()
			if err := app.DB.TuneForBulk(ctx, cacheMB); err != nil {
				return err
			}
			sys := actor.With(ctx, actor.SystemActor("import"))
			if deferIndexes {
				deferred, err := app.Registry.StartBulkLoad(sys)
				if err != nil {
					return err
				}
				if len(deferred) > 0 && !quiet {
					log.Info("empty registry: search indexes are built after the load", "indexes", deferred)
				}
			}
			report := progressReporter(stderr, size, quiet, func(p bulk.Progress) {
				log.Info("importing", "rows", p.Rows, "imported", p.Imported, "existing", p.Existing, "rejected", p.Rejected,
					"rows_per_s", int(float64(p.Rows)/p.Elapsed.Seconds()))
			})
			sum, err := bulk.Import(sys, app.Registry, in, bulk.Options{
				Format: format, Source: name, BatchSize: batch, Rejects: rf, Progress: report})
			report(sum)
			var built int
			var building time.Duration
			if err == nil {
				err = app.Registry.FinishBulkLoad(sys, func(index string, took time.Duration) {
					built++
					building += took
					if !quiet {
						log.Info("built index", "index", index, "took", took.Round(time.Millisecond))
					}
				})
			}
			total := time.Since(start)
			fmt.Fprintf(stdout, "%d rows in %.1fs (%.0f rows/s): %d imported, %d already registered, %d rejected",
				sum.Rows, total.Seconds(), float64(sum.Rows)/max(total.Seconds(), 1e-9), sum.Imported, sum.Existing, sum.Rejected)
			if sum.Rejected > 0 {
				fmt.Fprintf(stdout, " (see %s)", rejects)
			}
			if built > 0 {
				fmt.Fprintf(stdout, "; %d search indexes built in %.1fs", built, building.Seconds())
			}
			if rss := peakRSS(); rss != "" {
				fmt.Fprintf(stdout, "; peak RSS %s", rss)
			}
			fmt.Fprintln(stdout)
			if err != nil {
				return fmt.Errorf("import stopped after %d rows: %w (run it again to continue)", sum.Rows, err)
			}
			return nil
		},
	}
	storeFlags(cmd, &cfg, getenv)
	cmd.Flags().StringVar(&format, "format", "", "jsonl or csv (default: from the file name)")
	cmd.Flags().StringVar(&rejects, "rejects", "", "where refused rows go (default FILE.rejects.jsonl)")
	cmd.Flags().IntVar(&batch, "batch", 5000, "rows per transaction")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no progress output")
	cmd.Flags().BoolVar(&deferIndexes, "defer-indexes", true, "into an empty registry, build the search indexes after the load (much faster)")
	cmd.Flags().IntVar(&cacheMB, "cache-mb", 0, "SQLite only: one connection with this page cache in MB (0: the default 64 MB cache)")
	return cmd
}

// openInput opens FILE or standard input ("-"), with its size if known.
func openInput(name string, stdin io.Reader) (io.ReadCloser, int64, string, error) {
	if name == "-" {
		return io.NopCloser(stdin), -1, "-", nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, name, err
	}
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return f, size, name, nil
}

// progressReporter shows a progress bar (bytes, rows/s, ETA) on a
// terminal, and otherwise calls logLine at most every 5 seconds.
func progressReporter(stderr io.Writer, size int64, quiet bool, logLine func(bulk.Progress)) func(bulk.Progress) {
	if quiet {
		return func(bulk.Progress) {}
	}
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		bar := progressbar.NewOptions64(size, progressbar.OptionSetWriter(stderr), progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("importing"), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
		return func(p bulk.Progress) {
			bar.Describe(fmt.Sprintf("%d rows, %.0f rows/s", p.Rows, float64(p.Rows)/max(p.Elapsed.Seconds(), 1e-9)))
			bar.Set64(p.Bytes)
		}
	}
	var last time.Time
	return func(p bulk.Progress) {
		if time.Since(last) >= 5*time.Second {
			last = time.Now()
			logLine(p)
		}
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// peakRSS is the process's peak resident set size on Linux ("" elsewhere).
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
