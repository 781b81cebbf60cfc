package web

// adminRoutes are the administrators' pages.
func (s *Web) adminRoutes() []Page { return nil }

// adminLinks are the home page's cards of the administration.
func (s *Web) adminLinks() []homeLink { return nil }
