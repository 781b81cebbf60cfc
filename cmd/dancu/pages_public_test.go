package main

// publicPageRows are the rows of the pages' matrix for the public pages
// (internal/web/public.go).
func publicPageRows() map[string]pageRow { return map[string]pageRow{} }
