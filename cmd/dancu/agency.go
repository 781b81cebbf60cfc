package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/exchange"
	"github.com/dancu-vn/dancu/internal/server"
)

// agencyCmd administers the members of the exchange hub.
func agencyCmd(getenv env, stdout, stderr io.Writer) *cobra.Command {
	cfg := server.DefaultConfig()
	cmd := &cobra.Command{Use: "agency", Short: "Manage the member agencies of the exchange hub"}
	storeFlags(cmd, &cfg, getenv)
	cmd.PersistentFlags().AddFlagSet(cmd.Flags())
	with := func(fn func(ctx context.Context, app *server.App) error) func(*cobra.Command, []string) error {
		return func(c *cobra.Command, _ []string) error {
			app, _, err := openApp(c.Context(), cfg, stderr)
			if err != nil {
				return err
			}
			defer app.Close()
			if err := app.OpenIdentity(cfg); err != nil {
				return err
			}
			return fn(actor.With(c.Context(), actor.SystemActor("cli")), app)
		}
	}
	var in exchange.Agency
	create := &cobra.Command{Use: "create CLIENT-ID", Short: "Make a service client a member agency", Args: cobra.ExactArgs(1),
		Example: "  dancu client create bhxh --name 'Bảo hiểm xã hội' --type service\n" +
			"  dancu agency create bhxh --name 'Bảo hiểm xã hội Việt Nam' --kind ministry --services verify,query,events \\\n" +
			"      --fields name,birth_date,permanent_residence --purposes 'social insurance'",
		RunE: func(c *cobra.Command, args []string) error {
			in.ID = args[0]
			return with(func(ctx context.Context, app *server.App) error {
				a, err := app.Exchange.CreateAgency(ctx, in)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "agency %s (%s): %s; purposes: %s\n", a.ID, a.Kind, strings.Join(a.Services, ", "), strings.Join(a.Purposes, "; "))
				return nil
			})(c, args)
		}}
	create.Flags().StringVar(&in.Name, "name", "", "the agency's name")
	create.Flags().StringVar(&in.Kind, "kind", "", strings.Join(exchange.Kinds, ", "))
	create.Flags().StringSliceVar(&in.Services, "services", nil, "verify, query, events")
	create.Flags().StringSliceVar(&in.Fields, "fields", nil, "record fields a scoped query may read")
	create.Flags().StringArrayVar(&in.Purposes, "purposes", nil, "a declared purpose (repeat for several)")
	create.Flags().IntVar(&in.RatePerSec, "rate", 100, "verifications per second")
	list := &cobra.Command{Use: "list", Short: "List member agencies", Args: cobra.NoArgs,
		RunE: with(func(ctx context.Context, app *server.App) error {
			as, err := app.Exchange.Agencies(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tKIND\tSERVICES\tFIELDS\tCONSENT\tRATE/S\tSTATE")
			for _, a := range as {
				state := "active"
				if a.Disabled {
					state = "disabled"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\t%d\t%s\n", a.ID, a.Name, a.Kind, strings.Join(a.Services, ","), strings.Join(a.Fields, ","), a.NeedsConsent, a.RatePerSec, state)
			}
			return tw.Flush()
		})}
	toggle := func(disabled bool) *cobra.Command {
		use, short := "enable ID", "Let a member use the hub again"
		if disabled {
			use, short = "disable ID", "Stop a member's access to the hub (running servers notice within 5 s)"
		}
		return &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				return with(func(ctx context.Context, app *server.App) error {
					if err := app.Exchange.SetDisabled(ctx, args[0], disabled); err != nil {
						return err
					}
					fmt.Fprintf(stdout, "agency %s %s\n", args[0], map[bool]string{true: "disabled", false: "enabled"}[disabled])
					return nil
				})(c, args)
			}}
	}
	cmd.AddCommand(create, list, toggle(true), toggle(false))
	return cmd
}
