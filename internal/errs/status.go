package errs

import "net/http"

// httpStatus is the one table from error kind to HTTP status, for the API
// and the pages alike.
var httpStatus = map[Kind]int{
	Invalid:         http.StatusUnprocessableEntity,
	NotFound:        http.StatusNotFound,
	Conflict:        http.StatusConflict,
	Precondition:    http.StatusPreconditionFailed,
	Forbidden:       http.StatusForbidden,
	Unauthenticated: http.StatusUnauthorized,
	Unavailable:     http.StatusServiceUnavailable,
	TooMany:         http.StatusTooManyRequests,
	Internal:        http.StatusInternalServerError,
}

// HTTPStatus is the HTTP status of an error of kind k.
func (k Kind) HTTPStatus() int {
	if s, ok := httpStatus[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}
