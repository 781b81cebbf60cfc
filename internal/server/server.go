package server

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dancu-vn/dancu/internal/api"
	"github.com/dancu-vn/dancu/internal/pki"
	"github.com/dancu-vn/dancu/internal/sso"
	"github.com/dancu-vn/dancu/internal/web"
)

// Handler returns the public HTTP surface of the app, and apart from it the
// Prometheus metrics, which show internals (request counts by route, the
// pool, the runtime) and are served only on --metrics-addr.
func (a *App) Handler(version string) (public, metrics http.Handler) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(a.DB.DB, a.DB.Dialect.String()))
	requests := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "dancu_http_request_duration_seconds", Help: "HTTP requests by route pattern, method and status.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "method", "status"})
	reg.MustRegister(requests)

	mux := http.NewServeMux()
	mux.Handle(api.Prefix+"/", api.New(api.Deps{DB: a.DB, Access: a.Access, Registry: a.Registry, EID: a.EID, SSO: a.SSO, Dossier: a.Dossier, Exchange: a.Exchange, Events: a.Events, Cards: a.Cards, Log: a.Log, Version: version, PublicURL: a.publicURL}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Cache-Control", "no-store")
		notReady := func(msg string) {
			w.Header().Set("Retry-After", strconv.Itoa(api.RetryAfter))
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, msg+"\n")
		}
		if err := a.DB.PingContext(ctx); err != nil {
			notReady("database unreachable")
			return
		}
		if err := a.DB.CheckSchema(ctx); err != nil {
			notReady(err.Error())
			return
		}
		// A store that answers reads but refuses writes (read-only,
		// full, locked) cannot serve: most operations write an access
		// record.
		if err := a.DB.ProbeWrite(ctx); err != nil {
			a.Log.Warn("readiness: the database refuses writes", "err", err)
			notReady("database refuses writes")
			return
		}
		io.WriteString(w, "ready\n")
	})
	// The OpenID provider: discovery, authorize, token, userinfo, keys,
	// revocation, introspection, end_session, and the login pages.
	idp := a.SSO.Handler()
	for _, p := range []string{"/.well-known/", "/authorize", "/authorize/", "/oauth/", "/userinfo", "/keys", "/revoke", "/end_session", sso.LoginPath, sso.LoginPath + "/"} {
		mux.Handle(p, idp)
	}
	// Keys of signed documents (residence confirmations), for offline
	// verification.
	mux.HandleFunc("GET /.well-known/dancu-document-keys", func(w http.ResponseWriter, r *http.Request) {
		set, err := a.Dossier.DocumentKeys(r.Context())
		if err != nil {
			a.Log.Error("document keys", "err", err)
			api.WriteProblem(w, http.StatusServiceUnavailable, "keys unavailable, try again")
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		json.NewEncoder(w).Encode(set)
	})
	// The Country Signing CA certificate and its CRL, for relying parties
	// that check chip cards themselves.
	mux.HandleFunc("GET /.well-known/dancu-csca.crt", func(w http.ResponseWriter, r *http.Request) {
		certs, err := a.PKI.CSCACertificates(r.Context())
		if err != nil || len(certs) == 0 {
			api.WriteProblem(w, http.StatusNotFound, "no CSCA yet")
			return
		}
		w.Header().Set("Content-Type", "application/pkix-cert")
		w.Write(certs[0].Raw)
	})
	mux.HandleFunc("GET /.well-known/dancu-csca.crl", func(w http.ResponseWriter, r *http.Request) {
		// ?ski=HEX: the CRL of an earlier CSCA (by its subject key
		// identifier), for the cards signed under it.
		der, err := a.PKI.CRLOf(r.Context(), r.URL.Query().Get("ski"))
		if err != nil {
			api.WriteProblem(w, http.StatusNotFound, "no such CSCA or no CRL yet")
			return
		}
		// Cacheable until shortly after the next CRL is due to be made (a
		// month before this one's next update), never past its next update.
		if crl, err := x509.ParseRevocationList(der); err == nil {
			w.Header().Set("Last-Modified", crl.ThisUpdate.UTC().Format(http.TimeFormat))
			w.Header().Set("ETag", fmt.Sprintf(`"crl-%s"`, crl.Number))
			age := time.Until(crl.NextUpdate.Add(-pki.CRLRenewBefore))
			age = max(min(age, 24*time.Hour), 0)
			w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(age.Seconds())))
			w.Header().Set("Expires", crl.NextUpdate.UTC().Format(http.TimeFormat))
			if r.Header.Get("If-None-Match") == w.Header().Get("ETag") {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		w.Write(der)
	})
	// The CSCA Master List (ICAO 9303-12): every CSCA and link certificate
	// of ours, signed, for relying parties that keep trust lists.
	mux.HandleFunc("GET /.well-known/dancu-csca-masterlist.ml", func(w http.ResponseWriter, r *http.Request) {
		der, err := a.PKI.MasterList(r.Context(), time.Now())
		if err != nil {
			api.WriteProblem(w, http.StatusNotFound, "no CSCA yet")
			return
		}
		w.Header().Set("Content-Type", "application/pkcs7-mime; smime-type=signed-data")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(der)
	})
	if a.demoPortal {
		mux.Handle("/demo/portal", demoPortal{base: a.publicURL})
		mux.Handle("/demo/portal/", demoPortal{base: a.publicURL})
	}
	// The pages: the landing page at /, the officer console under
	// /console/. Embedded templates that do not parse are a build error,
	// which the tests catch.
	pages, err := web.New(web.Deps{DB: a.DB, Access: a.Access, Registry: a.Registry, EID: a.EID, SSO: a.SSO, Dossier: a.Dossier,
		Exchange: a.Exchange, Events: a.Events, Cards: a.Cards, Indicators: a.Indicators, PKI: a.PKI, Chain: a.Chain, Calendar: a.Calendar, Policy: a.Policy,
		Log: a.Log, PublicURL: a.publicURL, IdP: idp, PortalSecret: a.portalSecret, Sealer: a.cookieSealer})
	if err != nil {
		panic(err)
	}
	ph := pages.Handler()
	for _, p := range pages.Mounts() {
		mux.Handle(p, ph)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		api.WriteProblem(w, http.StatusNotFound, "no such path: "+r.URL.EscapedPath())
	})
	return observe(harden(mux, a.Log), mux, requests, a.Log), harden(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), a.Log)
}

// statusWriter remembers the status code for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func observe(next http.Handler, mux *http.ServeMux, requests *prometheus.HistogramVec, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		_, pattern := mux.Handler(r)
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		route := pattern
		if r.Pattern != "" {
			route = r.Pattern
		}
		requests.WithLabelValues(route, r.Method, strconv.Itoa(sw.status)).Observe(d.Seconds())
		if sw.status >= 500 {
			log.Warn("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", d)
		} else {
			log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", d)
		}
	})
}

// Serve serves h on ln until ctx is cancelled, then shuts down gracefully:
// no new connections, requests in flight get up to grace to finish.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration, log *slog.Logger) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: maxHeaderBytes}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Requests still running past the grace (a stalled upload)
		// lose their connections, so that their handlers end and the
		// work they hold can be waited for.
		srv.Close()
		<-errc
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
