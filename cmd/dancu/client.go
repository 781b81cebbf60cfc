package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/server"
	"github.com/dancu-vn/dancu/internal/sso"
)

// clientCmd administers the OpenID provider's relying parties and signing
// keys directly on the store, as the system.
func clientCmd(getenv env, stdout, stderr io.Writer) *cobra.Command {
	cfg := server.DefaultConfig()
	cmd := &cobra.Command{Use: "client", Short: "Manage OpenID relying parties (public-service portals, agency systems)"}
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

	var in sso.NewClient
	create := &cobra.Command{Use: "create ID", Short: "Register a relying party; prints its secret once", Args: cobra.ExactArgs(1),
		Example: "  dancu client create dichvucong --name 'Cổng Dịch vụ công' --type web --redirect-uri https://dichvucong.example.vn/callback \\\n" +
			"      --scopes profile,pid,offline_access --min-level 2\n" +
			"  dancu client create bhxh --name 'Bảo hiểm xã hội' --type service",
		RunE: func(c *cobra.Command, args []string) error {
			in.ID = args[0]
			return with(func(ctx context.Context, app *server.App) error {
				cl, secret, err := app.SSO.CreateClient(ctx, in)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "created client %s (%s, %s, level %d)\n", cl.ID, cl.AppType, cl.AuthMethodV, cl.MinLevel)
				if secret != "" {
					fmt.Fprintf(stdout, "client secret (shown once): %s\n", secret)
				}
				return nil
			})(c, args)
		}}
	create.Flags().StringVar(&in.Name, "name", "", "name shown on the consent page")
	create.Flags().StringVar(&in.Type, "type", "web", "web (a portal with a secret), native (an app: public, PKCE) or service (client credentials)")
	create.Flags().StringVar(&in.AuthMethod, "auth-method", "", "client_secret_basic, client_secret_post, private_key_jwt or none (default by type)")
	create.Flags().StringSliceVar(&in.RedirectURIs, "redirect-uri", nil, "redirect URI (repeat for several)")
	create.Flags().StringSliceVar(&in.LogoutURIs, "post-logout-redirect-uri", nil, "where to return after logout (repeat for several)")
	create.Flags().StringSliceVar(&in.Scopes, "scopes", nil, "scopes it may ask for: profile, email, phone, address, pid, offline_access")
	create.Flags().IntVar(&in.MinLevel, "min-level", 1, "e-ID level its logins need: 1 or 2")
	create.Flags().StringVar(&in.JWKS, "jwks", "", "for private_key_jwt: the client's public keys (a JSON Web Key Set)")
	create.Flags().StringVar(&in.IDTokenAlg, "id-token-alg", "", "how its ID tokens are signed: RS256 or ES256 (default RS256, ES256 for services)")
	create.Flags().StringVar(&in.Backchannel, "backchannel-logout-uri", "", "where logout tokens are POSTed when a citizen's single sign-on session ends")

	list := &cobra.Command{Use: "list", Short: "List relying parties", Args: cobra.NoArgs,
		RunE: with(func(ctx context.Context, app *server.App) error {
			cs, err := app.SSO.Clients(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tTYPE\tAUTH\tLEVEL\tSCOPES\tREDIRECT URIS")
			for _, c := range cs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", c.ID, c.Name, c.AppType, c.AuthMethodV, c.MinLevel,
					strings.Join(c.Scopes, " "), strings.Join(c.RedirectURIv, " "))
			}
			return tw.Flush()
		})}

	rotate := &cobra.Command{Use: "rotate-key", Short: "Make a new token signing key now (the old one stays published until its tokens expire)", Args: cobra.NoArgs,
		RunE: with(func(ctx context.Context, app *server.App) error {
			id, err := app.SSO.RotateKey(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "new signing key %s (ES256); keys rotate by themselves every %s\n", id, sso.KeyRotation)
			return nil
		})}
	cmd.AddCommand(create, list, rotate)
	return cmd
}
