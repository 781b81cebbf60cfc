package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dancu-vn/dancu/internal/server"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

func migrateCmd(getenv env, stdout, stderr io.Writer) *cobra.Command {
	cfg := server.DefaultConfig()
	var status bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Bring the database schema up to date (serve does this too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, err := sqldb.Open(ctx, cfg.DB)
			if err != nil {
				return err
			}
			defer db.Close()
			if status {
				v, err := db.SchemaVersion(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "%s: schema version %d, this binary brings %d\n", db.URL(), v, sqldb.LatestVersion())
				if v >= 2 {
					if names, err := db.DeferredIndexes(ctx, ""); err == nil && len(names) > 0 {
						fmt.Fprintf(stdout, "indexes deferred by an interrupted import (built by migrate or serve): %s\n", strings.Join(names, ", "))
					}
				}
				return nil
			}
			applied, err := db.Migrate(ctx)
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintf(stdout, "%s: already at schema version %d\n", db.URL(), sqldb.LatestVersion())
			} else {
				fmt.Fprintf(stdout, "%s: applied migrations %v; now at schema version %d\n", db.URL(), applied, sqldb.LatestVersion())
			}
			return db.RestoreIndexes(ctx, func(name string, took time.Duration) {
				fmt.Fprintf(stdout, "built index %s, deferred by an interrupted import (%s)\n", name, took.Round(time.Millisecond))
			})
		},
	}
	storeFlags(cmd, &cfg, getenv)
	cmd.Flags().BoolVar(&status, "status", false, "only print the schema version")
	return cmd
}
