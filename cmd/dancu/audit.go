package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/dancu-vn/dancu/internal/server"
)

// auditCmd checks and seals the tamper-evident access log.
func auditCmd(getenv env, stdout, stderr io.Writer) *cobra.Command {
	cfg := server.DefaultConfig()
	cmd := &cobra.Command{Use: "audit", Short: "The tamper-evident access log: verify it, seal it"}
	storeFlags(cmd, &cfg, getenv)
	cmd.PersistentFlags().AddFlagSet(cmd.Flags())
	var grace time.Duration
	verify := &cobra.Command{Use: "verify", Short: "Check every link and signed checkpoint; name every changed, deleted, reordered or unsealed entry", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			app, _, err := openApp(c.Context(), cfg, stderr)
			if err != nil {
				return err
			}
			defer app.Close()
			if err := app.OpenIdentity(cfg); err != nil {
				return err
			}
			r, err := app.Chain.Verify(c.Context(), grace)
			if err != nil {
				return err
			}
			for _, p := range r.Problems {
				fmt.Fprintln(stdout, p)
			}
			fmt.Fprintf(stdout, "%d links, %d signed checkpoints, %d events not sealed yet: ", r.Links, r.Checkpoints, r.Unchained)
			if len(r.Problems) > 0 {
				fmt.Fprintf(stdout, "%d problems\n", len(r.Problems))
				return fmt.Errorf("the access log does not verify: %d problems", len(r.Problems))
			}
			fmt.Fprintln(stdout, "intact")
			return nil
		}}
	verify.Flags().DurationVar(&grace, "grace", 10*time.Minute, "report events not sealed for longer than this")
	seal := &cobra.Command{Use: "seal", Short: "Seal the events not chained yet and sign a checkpoint (serve does this every 5 s)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			app, _, err := openApp(c.Context(), cfg, stderr)
			if err != nil {
				return err
			}
			defer app.Close()
			if err := app.OpenIdentity(cfg); err != nil {
				return err
			}
			total := 0
			for {
				n, err := app.Chain.Seal(c.Context(), 10000)
				if err != nil {
					return err
				}
				total += n
				if n == 0 {
					break
				}
			}
			fmt.Fprintf(stdout, "sealed %d events\n", total)
			return nil
		}}
	cmd.AddCommand(verify, seal)
	return cmd
}
