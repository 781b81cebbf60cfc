package web

// dashboardRoutes are the dashboards' pages.
func (s *Web) dashboardRoutes() []Page { return nil }

// dashboardLinks are the home page's cards of the dashboards.
func (s *Web) dashboardLinks() []homeLink { return nil }
