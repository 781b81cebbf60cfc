package server

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/dancu-vn/dancu/internal/api"
)

// Header limits. net/http refuses a request whose header block exceeds
// maxHeaderBytes itself, before any handler runs, with a plain-text 431
// it writes straight to the connection (no handler can shape it). Below
// that, headerLimit is checked here and answered as problem details, so
// every header too large that a handler can see gets the API's shape.
const (
	maxHeaderBytes = 64 << 10
	headerLimit    = 32 << 10
)

// harden is the outermost layer of every response of the public listener:
// security headers on everything, oversized headers refused as problem
// details, and a panic answered 500 without its internals.
func harden(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		secure(h)
		if headerSize(r) > headerLimit {
			w.Header().Set("Connection", "close")
			api.WriteProblem(w, http.StatusRequestHeaderFieldsTooLarge, "the request's header fields are too large")
			return
		}
		sw := &wroteWriter{ResponseWriter: w}
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(p) // the handler asked net/http to drop the connection
			}
			log.ErrorContext(r.Context(), "panic serving a request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			if sw.wrote {
				// Too late for an answer: drop the connection so the
				// client sees the response is cut, not complete.
				panic(http.ErrAbortHandler)
			}
			clear(h)
			secure(h)
			h.Set("Cache-Control", "no-store")
			api.WriteProblem(w, http.StatusInternalServerError, "internal error; it has been logged")
		}()
		next.ServeHTTP(sw, r)
	})
}

// secure sets the headers every response carries: nothing is to be sniffed
// into another type, framed by another site, or told where it was linked
// from (URLs may carry codes). A page that needs a fuller
// Content-Security-Policy sets its own.
func secure(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
}

// headerSize is the size of the request line and header fields as sent.
func headerSize(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n + len(r.Host) + 8
}

// wroteWriter remembers whether the response has started.
type wroteWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *wroteWriter) WriteHeader(code int) {
	if code >= 200 {
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *wroteWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *wroteWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *wroteWriter) Flush() {
	w.wrote = true
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
