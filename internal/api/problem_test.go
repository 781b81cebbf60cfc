package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dancu-vn/dancu/internal/errs"
)

// TestWrappedErrorKinds: an error of a kind keeps its status however it is
// wrapped, in the token check and in the service errors.
func TestWrappedErrorKinds(t *testing.T) {
	refused := errs.E(errs.Unauthenticated, "this token has expired")
	for _, err := range []error{refused, fmt.Errorf("resolve token: %w", refused), fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", refused))} {
		status, msg := authProblem(err)
		if status != http.StatusUnauthorized || msg != "this token has expired" {
			t.Errorf("authProblem(%v) = %d %q, want 401 with the service's message", err, status, msg)
		}
	}
	if status, _ := authProblem(errors.New("connection reset")); status != http.StatusServiceUnavailable {
		t.Errorf("a failure to check the token: %d, want 503", status)
	}
	h := &handlers{Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	for kind := errs.Internal; kind <= errs.TooMany; kind++ {
		want := kind.HTTPStatus()
		err := fmt.Errorf("context: %w", errs.E(kind, "some %s", kind))
		var se huma.StatusError
		if !errors.As(h.problem(context.Background(), err), &se) || se.GetStatus() != want {
			t.Errorf("wrapped %s: %v, want status %d", kind, h.problem(context.Background(), err), want)
		}
	}
}
