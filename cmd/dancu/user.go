package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/server"
)

// userCmd administers officer accounts directly on the store, as the
// system: for the first administrator, scripts and recovery.
func userCmd(getenv env, stdout, stderr io.Writer) *cobra.Command {
	cfg := server.DefaultConfig()
	cmd := &cobra.Command{Use: "user", Short: "Manage officer accounts"}
	storeFlags(cmd, &cfg, getenv)
	cmd.PersistentFlags().AddFlagSet(cmd.Flags())

	with := func(fn func(ctx context.Context, app *server.App) error) func(*cobra.Command, []string) error {
		return func(c *cobra.Command, _ []string) error {
			app, _, err := openApp(c.Context(), cfg, stderr)
			if err != nil {
				return err
			}
			defer app.Close()
			return fn(actor.With(c.Context(), actor.SystemActor("cli")), app)
		}
	}

	var in access.NewOfficer
	var level, code string
	create := &cobra.Command{Use: "create USERNAME", Short: "Create an officer account", Args: cobra.ExactArgs(1),
		Example: "  dancu user create lan --role registrar --level commune --unit 00004 --name 'Nguyễn Thị Lan'\n" +
			"  (the password is read from DANCU_USER_PASSWORD, or from standard input)",
		RunE: func(c *cobra.Command, args []string) error {
			in.Username = args[0]
			in.Jurisdiction = actor.Jurisdiction{Level: actor.Level(level), Code: code}
			pw, err := password(getenv, c.InOrStdin(), stderr)
			if err != nil {
				return err
			}
			in.Password = pw
			return with(func(ctx context.Context, app *server.App) error {
				o, err := app.Access.CreateOfficer(ctx, in)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "created %s (%s, %s %s)\n", o.Username, o.Role, o.Jurisdiction.Level, o.Jurisdiction.Code)
				return nil
			})(c, args)
		}}
	create.Flags().StringVar((*string)(&in.Role), "role", "registrar", "admin, registrar or viewer")
	create.Flags().StringVar(&in.DisplayName, "name", "", "display name")
	create.Flags().StringVar(&level, "level", "commune", "jurisdiction: national, province, district or commune")
	create.Flags().StringVar(&code, "unit", "", "unit code of the jurisdiction (province or commune of the 2025 scheme, district of 2022)")

	list := &cobra.Command{Use: "list", Short: "List officer accounts", Args: cobra.NoArgs,
		RunE: with(func(ctx context.Context, app *server.App) error {
			os, err := app.Access.ListOfficers(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USERNAME\tNAME\tROLE\tJURISDICTION\tDISABLED")
			for _, o := range os {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%v\n", o.Username, o.DisplayName, o.Role, o.Jurisdiction.Level, o.Jurisdiction.Code, o.Disabled)
			}
			return tw.Flush()
		})}

	passwd := &cobra.Command{Use: "passwd USERNAME", Short: "Reset an officer's password (ends their sessions and tokens)", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			pw, err := password(getenv, c.InOrStdin(), stderr)
			if err != nil {
				return err
			}
			return with(func(ctx context.Context, app *server.App) error {
				if err := app.Access.ResetPassword(ctx, args[0], pw); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "password of %s changed\n", args[0])
				return nil
			})(c, args)
		}}

	setDisabled := func(disabled bool) func(*cobra.Command, []string) error {
		return func(c *cobra.Command, args []string) error {
			return with(func(ctx context.Context, app *server.App) error {
				if err := app.Access.SetDisabled(ctx, args[0], disabled); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "%s %s\n", args[0], map[bool]string{true: "disabled", false: "enabled"}[disabled])
				return nil
			})(c, args)
		}
	}
	disable := &cobra.Command{Use: "disable USERNAME", Short: "Disable an account and revoke its tokens", Args: cobra.ExactArgs(1), RunE: setDisabled(true)}
	enable := &cobra.Command{Use: "enable USERNAME", Short: "Enable an account", Args: cobra.ExactArgs(1), RunE: setDisabled(false)}

	var tokenName string
	var ttl time.Duration
	token := &cobra.Command{Use: "token USERNAME", Short: "Create an API token for an officer (printed once)", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return with(func(ctx context.Context, app *server.App) error {
				secret, t, err := app.Access.CreateTokenFor(ctx, args[0], tokenName, ttl)
				if err != nil {
					return err
				}
				fmt.Fprintf(stderr, "token %s for %s (store it now; it is not shown again):\n", t.ID, args[0])
				fmt.Fprintln(stdout, secret)
				return nil
			})(c, args)
		}}
	token.Flags().StringVar(&tokenName, "name", "cli", "what the token is for")
	token.Flags().DurationVar(&ttl, "ttl", 0, "lifetime, e.g. 720h; 0 for 30 days; at most 2160h (90 days)")

	cmd.AddCommand(create, list, passwd, disable, enable, token)
	return cmd
}

// password reads a new password from DANCU_USER_PASSWORD or one line of
// standard input.
func password(getenv env, stdin io.Reader, stderr io.Writer) (string, error) {
	if pw := getenv("DANCU_USER_PASSWORD"); pw != "" {
		return pw, nil
	}
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(stderr, "password (8–64 characters, upper and lower case, digit, special): ")
		}
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		return "", fmt.Errorf("no password given: set DANCU_USER_PASSWORD or type it on standard input")
	}
	return line, nil
}
