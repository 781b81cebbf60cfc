package main

// dashboardPageRows are the rows of the pages' matrix for the dashboards
// (internal/web/dashboard.go): an officer sees the units of their
// jurisdiction only, even by URL.
func dashboardPageRows() map[string]pageRow {
	inA := []who{viewer, regIn, admin}
	return map[string]pageRow{
		"GET /console/dashboard":          {allow: inA, build: pagePlain(pageCall{query: "unit=" + communeA})},
		"GET /console/dashboard.csv":      {allow: inA, build: pagePlain(pageCall{query: "unit=" + communeA})},
		"POST /console/dashboard/refresh": {allow: pageOfficers, build: pagePlain(pageCall{})},
	}
}
