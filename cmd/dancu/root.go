package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/server"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// env is the process environment as a function, so tests can supply their own.
type env func(string) string

// run is the whole program: it parses args and runs one subcommand.
func run(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	root := &cobra.Command{
		Use:           "dancu",
		Short:         "dancu: the national population registry and the services built on it",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(serveCmd(getenv, stdout, stderr), migrateCmd(getenv, stdout, stderr), userCmd(getenv, stdout, stderr),
		versionCmd(stdout), configCmd(getenv, stdout), importCmd(getenv, stdout, stderr), exportCmd(getenv, stdout, stderr), generateCmd(getenv, stdout, stderr),
		clientCmd(getenv, stdout, stderr), auditCmd(getenv, stdout, stderr),
		agencyCmd(getenv, stdout, stderr), pkiCmd(getenv, stdout, stderr))
	err := root.ExecuteContext(ctx)
	var e *errs.Error
	if errors.As(err, &e) && e.Kind == errs.Invalid && len(e.Fields) > 0 {
		msg := e.Msg
		for _, f := range e.Fields {
			msg += fmt.Sprintf("\n  %s: %s", f.Field, f.Reason)
		}
		return errors.New(msg)
	}
	return err
}

// storeFlags are the settings every store-using command shares.
func storeFlags(cmd *cobra.Command, cfg *server.Config, getenv env) {
	cfg.DB = or(getenv("DANCU_DB"), cfg.DB)
	cfg.LogLevel = or(getenv("DANCU_LOG_LEVEL"), cfg.LogLevel)
	cfg.LogFormat = or(getenv("DANCU_LOG_FORMAT"), cfg.LogFormat)
	cfg.DataKey = getenv("DANCU_DATA_KEY")
	cfg.DataKeyFile = getenv("DANCU_DATA_KEY_FILE")
	cfg.HolidaysFile = getenv("DANCU_HOLIDAYS_FILE")
	cmd.Flags().StringVar(&cfg.DB, "db", cfg.DB, "store: sqlite:PATH or postgres://… (env DANCU_DB)")
	cmd.Flags().StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error (env DANCU_LOG_LEVEL)")
	cmd.Flags().StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "text or json (env DANCU_LOG_FORMAT)")
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// openApp opens the store and services for a CLI command.
func openApp(ctx context.Context, cfg server.Config, stderr io.Writer) (*server.App, *slog.Logger, error) {
	log, err := cfg.NewLogger(stderr)
	if err != nil {
		return nil, nil, err
	}
	app, err := server.Open(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	return app, log, nil
}

func versionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{Use: "version", Short: "Print the version", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(stdout, "dancu", buildVersion())
			return nil
		}}
}

func configCmd(getenv env, stdout io.Writer) *cobra.Command {
	cfg := server.DefaultConfig()
	cmd := &cobra.Command{Use: "config", Short: "Print the effective configuration, secrets masked", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pw, err := server.ReadSecret(getenv, "DANCU_ADMIN_PASSWORD")
			if err != nil {
				return err
			}
			cfg.AdminPassword = pw
			cfg.Dump(stdout)
			return nil
		}}
	storeFlags(cmd, &cfg, getenv)
	cfg.Addr = or(getenv("DANCU_ADDR"), cfg.Addr)
	cmd.Flags().StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (env DANCU_ADDR)")
	return cmd
}
