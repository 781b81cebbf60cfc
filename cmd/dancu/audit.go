package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/server"
)

// auditFlags are the settings of the access log's outside copies, shared by
// serve (which publishes to them) and the audit commands (which check
// against them).
func auditFlags(cmd *cobra.Command, cfg *server.Config, getenv env) {
	cfg.AuditOrigin = getenv("DANCU_AUDIT_ORIGIN")
	cfg.AuditCheckpointDir = getenv("DANCU_AUDIT_CHECKPOINT_DIR")
	cfg.AuditNATSURL = getenv("DANCU_AUDIT_NATS_URL")
	cmd.Flags().StringVar(&cfg.AuditOrigin, "audit-origin", cfg.AuditOrigin,
		"name of the access log in its signed checkpoints, fixed by the first seal (env DANCU_AUDIT_ORIGIN; default "+audit.DefaultOrigin+")")
	cmd.Flags().StringVar(&cfg.AuditCheckpointDir, "audit-checkpoint-dir", cfg.AuditCheckpointDir,
		"keep a copy of every signed audit checkpoint in this directory, on storage the database's administrators cannot change (env DANCU_AUDIT_CHECKPOINT_DIR)")
	cmd.Flags().StringVar(&cfg.AuditNATSURL, "audit-nats-url", cfg.AuditNATSURL,
		"also keep them in NATS JetStream stream DANCU_AUDIT, e.g. nats://127.0.0.1:4222 (env DANCU_AUDIT_NATS_URL)")
}

// auditCmd checks, seals and proves the verifiable access log.
func auditCmd(getenv env, stdout, stderr io.Writer) *cobra.Command {
	cfg := server.DefaultConfig()
	cmd := &cobra.Command{Use: "audit", Short: "The verifiable access log: verify it, seal it, prove an entry"}
	storeFlags(cmd, &cfg, getenv)
	auditFlags(cmd, &cfg, getenv)
	cmd.PersistentFlags().AddFlagSet(cmd.Flags())
	// open builds the log and its witnesses; the caller closes the app.
	open := func(c *cobra.Command) (*server.App, error) {
		app, _, err := openApp(c.Context(), cfg, stderr)
		if err != nil {
			return nil, err
		}
		if err := app.OpenAudit(cfg); err != nil {
			app.Close()
			return nil, err
		}
		if err := app.OpenWitnesses(c.Context(), cfg); err != nil {
			app.Close()
			return nil, err
		}
		return app, nil
	}
	var grace time.Duration
	var pinned []string
	verify := &cobra.Command{Use: "verify", Short: "Recompute the log's tree; hold it against every signed checkpoint, in the database and outside; name every bad entry",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			// Verification must not make the keys it would then trust.
			cfg.NoNewDataKey = true
			app, err := open(c)
			if err != nil {
				return err
			}
			defer app.Close()
			if v := getenv("DANCU_AUDIT_VERIFIER_KEY"); v != "" && len(pinned) == 0 {
				pinned = strings.Fields(v)
			}
			r, err := app.Chain.Verify(c.Context(), audit.VerifyOptions{Grace: grace, Witnesses: app.Witnesses, VerifierKeys: pinned})
			if err != nil {
				return err
			}
			for _, p := range r.Problems {
				fmt.Fprintln(stdout, p)
			}
			fmt.Fprintf(stdout, "%d entries, %d signed checkpoints (covering %d), %d events not sealed yet", r.Entries, r.Checkpoints, r.Signed, r.Unchained)
			for _, o := range r.Outside {
				fmt.Fprintf(stdout, ", %s pins %d", o.Name, o.Size)
			}
			fmt.Fprint(stdout, ": ")
			if len(r.Problems) > 0 {
				fmt.Fprintf(stdout, "%d problems, the first at index %d\n", len(r.Problems), r.FirstBad())
				return errs.E(errs.Conflict, "the access log does not verify: %d problems", len(r.Problems))
			}
			if len(r.Outside) == 0 {
				fmt.Fprintln(stdout, "intact as far as the database shows (no outside copy given: someone holding the signing key could rewrite it unseen; see --audit-checkpoint-dir)")
				return nil
			}
			fmt.Fprintln(stdout, "intact")
			return nil
		}}
	verify.Flags().DurationVar(&grace, "grace", 10*time.Minute, "report events not sealed, and checkpoints not copied outside, for longer than this")
	verify.Flags().StringArrayVar(&pinned, "verifier-key", nil, "trust only this note verifier key (as printed by dancu audit key and published); repeatable (env DANCU_AUDIT_VERIFIER_KEY, space-separated)")
	seal := &cobra.Command{Use: "seal", Short: "Seal the events not sealed yet, sign a checkpoint and copy it outside (serve does this every 5 s)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			app, err := open(c)
			if err != nil {
				return err
			}
			defer app.Close()
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
			if err := app.Chain.Publish(c.Context(), app.Witnesses...); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "sealed %d events\n", total)
			return nil
		}}
	prove := &cobra.Command{Use: "prove INDEX", Short: "Print the inclusion proof of one entry against the latest signed checkpoint, checked", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			index, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || index < 0 {
				return errs.Field("INDEX", "want an entry index from 0, got %q", args[0])
			}
			cfg.NoNewDataKey = true
			app, err := open(c)
			if err != nil {
				return err
			}
			defer app.Close()
			p, err := app.Chain.ProveInclusion(c.Context(), index)
			if err != nil {
				return err
			}
			vkey, err := app.Chain.VerifierKey(c.Context())
			if err != nil {
				return err
			}
			v, err := note.NewVerifier(vkey)
			if err != nil {
				return err
			}
			ev, err := audit.ByID(c.Context(), app.DB, p.EventID)
			if err != nil {
				return err
			}
			if _, err := audit.CheckInclusion(p, ev, v.Name(), note.VerifierList(v)); err != nil {
				return err
			}
			out, _ := json.MarshalIndent(struct {
				audit.InclusionProof
				Event       audit.Event `json:"event"`
				VerifierKey string      `json:"verifier_key"`
			}{p, ev, vkey}, "", "  ")
			fmt.Fprintln(stdout, string(out))
			return nil
		}}
	key := &cobra.Command{Use: "key", Short: "Print the note verifier key that checks the log's checkpoints, to publish and pin", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg.NoNewDataKey = true
			app, err := open(c)
			if err != nil {
				return err
			}
			defer app.Close()
			vkey, err := app.Chain.VerifierKey(c.Context())
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, vkey)
			return nil
		}}
	cmd.AddCommand(verify, seal, prove, key)
	return cmd
}
