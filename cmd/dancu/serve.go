package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/indicator"
	"github.com/dancu-vn/dancu/internal/server"
	"github.com/dancu-vn/dancu/internal/sso"
)

func serveCmd(getenv env, stdout, stderr io.Writer) *cobra.Command {
	cfg := server.DefaultConfig()
	var debugAddr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the dancu service (migrates the store first)",
		Long: "Run the dancu service on --addr with the store at --db (the embedded SQLite file\n" +
			"./dancu-data/dancu.db unless told otherwise). On a store with no officer, an administrator\n" +
			"'admin' is created with DANCU_ADMIN_PASSWORD, or a random password printed once.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			pw, err := server.ReadSecret(getenv, "DANCU_ADMIN_PASSWORD")
			if err != nil {
				return err
			}
			cfg.AdminPassword = pw
			if cfg.MessageGatewayToken, err = server.ReadSecret(getenv, "DANCU_MESSAGE_GATEWAY_TOKEN"); err != nil {
				return err
			}
			// Listen first: with port 0 the address, and so the default
			// public URL, is known only then.
			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				return err
			}
			defer ln.Close()
			// The metrics listener, if any, apart from the public one.
			var mln net.Listener
			if cfg.MetricsAddr != "" {
				if mln, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
					return fmt.Errorf("--metrics-addr: %w", err)
				}
				defer mln.Close()
			}
			configured := cfg.PublicURL
			if cfg.PublicURL, err = server.PublicBase(cfg.PublicURL, ln.Addr()); err != nil {
				return err
			}
			// Outside the demo, the data key must come from apart from the data.
			cfg.RequireDataKey = !cfg.Demo
			app, log, err := openApp(ctx, cfg, stderr)
			if err != nil {
				return err
			}
			defer app.Close()
			if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() && configured == "" {
				log.Warn("listening beyond loopback without --public-url: links, the OpenID issuer and passkeys name "+cfg.PublicURL, "addr", ln.Addr().String())
			}
			if err := app.OpenIdentity(cfg); err != nil {
				return err
			}
			if err := app.OpenWitnesses(ctx, cfg); err != nil {
				return err
			}
			if err := app.EnsurePortal(ctx); err != nil {
				return fmt.Errorf("the citizen portal's client: %w", err)
			}
			adminPw, created, err := app.Access.EnsureAdmin(ctx, cfg.AdminPassword)
			if err != nil {
				return err
			}
			if created && cfg.AdminPassword == "" {
				fmt.Fprintf(stdout, "Created the administrator account: username admin, password %s\n(shown once; change it with: dancu user passwd admin)\n", adminPw)
			} else if created {
				fmt.Fprintln(stdout, "Created the administrator account 'admin' with the password from DANCU_ADMIN_PASSWORD")
			}
			// The text of queued messages is readable (by administrators)
			// only in a demo, so demos work offline (until a gateway takes them).
			app.EID.ShowMessageBodies(cfg.Demo)
			if cfg.MessageGatewayURL == "" && !cfg.Demo {
				log.Warn("no message gateway (--message-gateway): activation codes and notices wait in the outbox and reach nobody")
			}
			var demo []server.DemoLogin
			var demoIDs []server.DemoCitizen
			if cfg.Demo {
				if demo, err = app.LoadDemo(ctx); err != nil {
					return fmt.Errorf("demo data: %w", err)
				}
				if demoIDs, err = app.LoadDemoIdentity(ctx); err != nil {
					return fmt.Errorf("demo e-ID accounts: %w", err)
				}
				if err := app.LoadDemoDossiers(ctx); err != nil {
					return err
				}
			}
			url := cfg.PublicURL
			fmt.Fprintf(stdout, "dancu %s listening on http://%s (store %s)\n", buildVersion(), ln.Addr().String(), app.DB.URL())
			if mln != nil {
				fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", mln.Addr().String())
			}
			fmt.Fprintf(stdout, "public URL %s\n", url)
			fmt.Fprintf(stdout, "API documentation: %s/api/v1/docs\n", url)
			if len(demo) > 0 {
				printDemo(stdout, url, demo, demoIDs)
			}
			if debugAddr != "" {
				if err := serveDebug(ctx, debugAddr, log); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "profiling (pprof) on http://%s/debug/pprof/\n", debugAddr)
			}
			sealCtx, stopSealing := context.WithCancel(ctx)
			defer stopSealing()
			app.Go(sealCtx, func(ctx context.Context) { app.RunSealer(ctx, 5*time.Second) })
			app.Go(sealCtx, func(ctx context.Context) {
				app.Indicators.Run(ctx, indicator.Staleness, func(err error) { log.Error("build the indicators", "err", err) })
			})
			app.Go(sealCtx, func(ctx context.Context) {
				app.Events.Run(ctx, time.Second, func(err error) { log.Error("deliver events", "err", err) })
			})
			if cfg.MessageGatewayURL != "" {
				gw := eid.HTTPGateway{URL: cfg.MessageGatewayURL, Token: cfg.MessageGatewayToken}
				app.Go(sealCtx, func(ctx context.Context) { app.RunMessages(ctx, gw, 250*time.Millisecond) })
				fmt.Fprintf(stdout, "messages to citizens go to the gateway %s\n", cfg.MessageGatewayURL)
			}
			if cfg.NATSURL != "" {
				sink, err := app.Events.NewNATSSink(ctx, cfg.NATSURL, "DANCU_EVENTS", "dancu")
				if err != nil {
					return err
				}
				app.Go(sealCtx, func(ctx context.Context) {
					defer sink.Close()
					sink.Run(ctx, time.Second, func(err error) { log.Error("publish events to NATS", "err", err) })
				})
				fmt.Fprintf(stdout, "change events also go to NATS JetStream stream DANCU_EVENTS (subjects dancu.*) at %s\n", cfg.NATSURL)
			}
			public, metrics := app.Handler(buildVersion())
			srvCtx, stopServing := context.WithCancel(ctx)
			defer stopServing()
			metricsDone := make(chan error, 1)
			if mln != nil {
				mux := http.NewServeMux()
				mux.Handle("GET /metrics", metrics)
				go func() { metricsDone <- server.Serve(srvCtx, mln, mux, cfg.ShutdownTimeout, log) }()
			} else {
				metricsDone <- nil
			}
			log.Info("serving", "addr", ln.Addr().String(), "db", app.DB.URL())
			err = server.Serve(ctx, ln, public, cfg.ShutdownTimeout, log)
			stopServing()
			if merr := <-metricsDone; err == nil && merr != nil {
				err = fmt.Errorf("metrics listener: %w", merr)
			}
			return err
		},
	}
	storeFlags(cmd, &cfg, getenv)
	auditFlags(cmd, &cfg, getenv)
	cfg.Addr = or(getenv("DANCU_ADDR"), cfg.Addr)
	cfg.MetricsAddr = getenv("DANCU_METRICS_ADDR")
	cfg.Demo = getenv("DANCU_DEMO") == "1" || strings.EqualFold(getenv("DANCU_DEMO"), "true")
	cfg.PublicURL = or(getenv("DANCU_PUBLIC_URL"), getenv("DANCU_ISSUER"))
	cfg.NATSURL = getenv("DANCU_NATS_URL")
	cmd.Flags().StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address; port 0 picks a free port (env DANCU_ADDR)")
	cmd.Flags().StringVar(&cfg.MetricsAddr, "metrics-addr", cfg.MetricsAddr, "serve Prometheus /metrics on this address, apart from the public listener, e.g. 127.0.0.1:9090 (env DANCU_METRICS_ADDR); off by default")
	cmd.Flags().BoolVar(&cfg.Demo, "demo", cfg.Demo, "create demo officers and a small demo population (env DANCU_DEMO=1)")
	cmd.Flags().StringVar(&debugAddr, "debug-addr", "", "serve Go profiling (pprof) on this loopback address, e.g. 127.0.0.1:6060; off by default")
	if v := getenv("DANCU_WEBHOOK_ALLOW_HOSTS"); v != "" {
		cfg.WebhookAllowHosts = strings.Split(v, ",")
	}
	cmd.Flags().StringSliceVar(&cfg.WebhookAllowHosts, "webhook-allow-hosts", cfg.WebhookAllowHosts, "hosts that may receive webhooks over http or at a private address, for tests only (env DANCU_WEBHOOK_ALLOW_HOSTS, comma-separated); every other webhook is https to a public address")
	cmd.Flags().StringVar(&cfg.NATSURL, "nats-url", cfg.NATSURL, "also publish change events to this NATS JetStream server, e.g. nats://127.0.0.1:4222 (env DANCU_NATS_URL)")
	cmd.Flags().StringVar(&cfg.PublicURL, "public-url", cfg.PublicURL, "the public base URL, e.g. https://id.example.vn: the OpenID issuer, the passkey relying party and every absolute link (env DANCU_PUBLIC_URL; default: http://localhost:PORT for a loopback listener)")
	cmd.Flags().StringVar(&cfg.PublicURL, "issuer", cfg.PublicURL, "the same as --public-url (env DANCU_ISSUER)")
	cmd.Flags().MarkDeprecated("issuer", "use --public-url")
	cfg.MessageGatewayURL = getenv("DANCU_MESSAGE_GATEWAY_URL")
	cmd.Flags().StringVar(&cfg.MessageGatewayURL, "message-gateway", cfg.MessageGatewayURL, "post messages to citizens (activation codes, notices) as JSON to this URL, the SMS / e-mail gateway's adapter (env DANCU_MESSAGE_GATEWAY_URL; its bearer token in DANCU_MESSAGE_GATEWAY_TOKEN[_FILE])")
	cmd.Flags().DurationVar(&cfg.SSOSessionIdle, "sso-session-idle", sso.DefaultSessionIdle, "a single sign-on session at the OpenID provider ends when unused this long")
	cmd.Flags().DurationVar(&cfg.SSOSessionMax, "sso-session-max", sso.DefaultSessionMax, "a single sign-on session ends this long after its login, used or not")
	cmd.Flags().DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "grace period for requests in flight at shutdown")
	return cmd
}

func printDemo(w io.Writer, url string, logins []server.DemoLogin, citizens []server.DemoCitizen) {
	fmt.Fprintf(w, "\nDemo data: two families and %d synthetic people (dancu generate --seed 6).\n", server.DemoPopulation)
	fmt.Fprintln(w, "Demo accounts (password for all: "+server.DemoPassword+"):")
	for _, l := range logins {
		fmt.Fprintf(w, "  %-16s %-10s %s\n", l.Username, l.Role, l.Where)
	}
	fmt.Fprintf(w, "\nTry:\n  curl -s %s/api/v1/auth/login -H 'Content-Type: application/json' \\\n", url)
	fmt.Fprintf(w, "    -d '{\"username\":\"%s\",\"password\":\"%s\"}'\n", logins[0].Username, server.DemoPassword)
	if len(citizens) > 0 {
		fmt.Fprintf(w, "\nDemo e-ID accounts (password %s, passcode %s):\n", server.DemoPassword, server.DemoPasscode)
		for _, c := range citizens {
			fmt.Fprintf(w, "  %s  level %d  %s\n", c.PID, c.Level, c.Name)
		}
		fmt.Fprintf(w, "Single sign-on as a public-service portal would use it: %s/demo/portal\n", url)
	}
}

// serveDebug serves pprof on its own listener, on loopback only: profiles
// show internals that must not be reachable from the network.
func serveDebug(ctx context.Context, addr string, log *slog.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--debug-addr must be a loopback address such as 127.0.0.1:6060")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--debug-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	log.Info("profiling", "addr", addr)
	return nil
}
