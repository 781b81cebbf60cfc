package main

// adminPageRows are the rows of the pages' matrix for the admin pages
// (internal/web/admin.go).
func adminPageRows() map[string]pageRow { return map[string]pageRow{} }
