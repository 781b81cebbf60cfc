package main

// dashboardPageRows are the rows of the pages' matrix for the dashboard pages
// (internal/web/dashboard.go).
func dashboardPageRows() map[string]pageRow { return map[string]pageRow{} }
