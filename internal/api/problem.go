package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// problemType is the type of every problem the API answers: RFC 9457 says
// about:blank when the status says it all, and the title is then the
// status text.
const problemType = "about:blank"

// RetryAfter is the Retry-After, in seconds, of an answer that says "try
// again later" (503, 429) when the service gives no better estimate.
const RetryAfter = 5

// shapeProblem completes every problem huma writes: the type is set, and
// no field error echoes the value it refused. A refused password,
// passcode, one-time code, client secret or token would otherwise come
// back in the answer (and in whatever logs the caller keeps), and so would
// a refused personal ID number or name: the location and the reason say
// enough.
func shapeProblem(ctx huma.Context, status string, v any) (any, error) {
	p, ok := v.(*huma.ErrorModel)
	if !ok {
		return v, nil
	}
	if p.Type == "" {
		p.Type = problemType
	}
	for _, d := range p.Errors {
		if d != nil {
			d.Value = nil
		}
	}
	if s := p.Status; s == http.StatusServiceUnavailable || s == http.StatusTooManyRequests {
		// An answer that says "later" says when, unless a handler that
		// knows better has set it already.
		if rw, ok := ctx.BodyWriter().(http.ResponseWriter); ok && rw.Header().Get("Retry-After") == "" {
			rw.Header().Set("Retry-After", strconv.Itoa(RetryAfter))
		}
	}
	return p, nil
}

// writeProblem writes problem details outside huma (middleware, the
// mux's own 404 and 405).
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", strconv.Itoa(RetryAfter))
		}
	}
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"type": problemType, "title": http.StatusText(status), "status": status, "detail": detail})
	w.Write(b)
}

// WriteProblem writes problem details for the parts of the server outside
// the API (unknown paths, panics, oversized headers).
func WriteProblem(w http.ResponseWriter, status int, detail string) { writeProblem(w, status, detail) }

// Fallback answers, as problem details, what mux itself would answer in
// plain text: 404 for a path no route matches, 405 (with Allow) for a
// method the path does not take. Redirects the mux makes (a cleaned path)
// pass through.
func Fallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// The mux's own answer: learn its status and headers without
		// letting its text body through.
		c := &capture{header: http.Header{}}
		h.ServeHTTP(c, r)
		switch c.status {
		case http.StatusNotFound:
			writeProblem(w, http.StatusNotFound, "no such path: "+r.URL.EscapedPath())
		case http.StatusMethodNotAllowed:
			allow := c.header.Get("Allow")
			w.Header().Set("Allow", allow)
			writeProblem(w, http.StatusMethodNotAllowed, r.Method+" is not allowed here; allowed: "+allow)
		default:
			for k, v := range c.header {
				if !strings.EqualFold(k, "Content-Type") && !strings.EqualFold(k, "Content-Length") {
					w.Header()[k] = v
				}
			}
			w.WriteHeader(c.status)
		}
	})
}

// capture is a ResponseWriter that keeps the status and headers and drops
// the body.
type capture struct {
	header http.Header
	status int
}

func (c *capture) Header() http.Header { return c.header }
func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return len(b), nil
}
func (c *capture) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

// noStore marks every answer of the API as not to be stored by the browser
// or any cache, except public reference data: personal data, tokens and
// even refusals (which say who may do what) stay out of caches.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if publicPath(r.URL.Path) {
			w.Header().Set("Cache-Control", "public, max-age=300")
		} else {
			w.Header().Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// publicPath reports whether path is documentation of the API itself
// (the OpenAPI document, its schemas, the docs page), which holds nothing
// personal and may be cached.
func publicPath(path string) bool {
	for _, p := range []string{Prefix + "/openapi", Prefix + "/docs", Prefix + "/schemas/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// cacheableKey marks, in an operation's metadata, public reference data
// that caches may keep (administrative units, code lists).
const cacheableKey = "dancu-cacheable"

// cacheable lets caches keep the answers of o: only for public reference
// data, never for anything an actor's identity changes.
func cacheable(o huma.Operation) huma.Operation {
	o.Metadata[cacheableKey] = true
	return o
}

// cacheHeaders sets the cache policy of an operation marked cacheable;
// every other answer keeps the no-store noStore set.
func cacheHeaders(ctx huma.Context, next func(huma.Context)) {
	if c, _ := ctx.Operation().Metadata[cacheableKey].(bool); c {
		ctx.SetHeader("Cache-Control", "public, max-age=300")
	}
	next(ctx)
}
