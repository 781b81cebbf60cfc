package web

// publicRoutes are the public pages beyond the landing page.
func (s *Web) publicRoutes() []Page { return nil }
