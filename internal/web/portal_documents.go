package web

import (
	"net/http"
	"slices"

	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/exchange"
)

// My documents: the citizen's dossiers with the documents each has (the
// receipt, a request for information, a refusal, a residence
// confirmation with its QR code), printable as A4 pages; and a residence
// confirmation (CT07) asked for with one button, issued at once from the
// registry's data.

type documentItem struct {
	D        dossier.Dossier
	Name     string
	Document bool // the dossier's state has a document to print
}

// hasDocument lists the states a printable document exists in.
var hasDocument = []dossier.State{dossier.Received, dossier.InfoRequested, dossier.Refused, dossier.Approved, dossier.Returned}

func (s *Web) portalDocuments(w http.ResponseWriter, r *http.Request) error {
	mine, err := s.Dossier.Mine(r.Context(), 100)
	if err != nil {
		return err
	}
	var items []documentItem
	for _, d := range mine {
		items = append(items, documentItem{D: d, Name: serviceName(langOf(r), d.Service), Document: slices.Contains(hasDocument, d.State)})
	}
	sector, err := s.Exchange.MyDocuments(r.Context())
	if err != nil {
		return err
	}
	// The documents a citizen most often looks for: where one is not here,
	// the page says who holds it and how to ask, never a bare "no data".
	var missing []string
	for _, k := range sectorKinds {
		if !slices.ContainsFunc(sector, func(d exchange.SectorDocument) bool { return d.Kind == k }) {
			missing = append(missing, k)
		}
	}
	s.render(w, r, http.StatusOK, "portal-documents", map[string]any{"Items": items, "Key": randomValue(), "Sector": sector, "Missing": missing})
	return nil
}

// sectorKinds are the sector documents integrated with the e-ID (social
// and health insurance, driving licence, vehicle registration).
var sectorKinds = []string{"social_insurance", "health_insurance", "driving_licence", "vehicle_registration"}

// portalConfirmation asks for a residence confirmation; the form's key
// makes a second click (or a retry) give the same one.
func (s *Web) portalConfirmation(w http.ResponseWriter, r *http.Request) error {
	key := ""
	if k := r.PostForm.Get("key"); k != "" {
		key = "portal-" + k
	}
	d, err := s.Dossier.Submit(r.Context(), "residence.confirmation", nil, key)
	if err != nil {
		return err
	}
	http.Redirect(w, r, Portal+"/documents/"+d.ID, http.StatusSeeOther)
	return nil
}

// portalDocument prints a document of the citizen's own dossier; another
// person's dossier is not found.
func (s *Web) portalDocument(w http.ResponseWriter, r *http.Request) error {
	d, err := s.Dossier.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	res, err := s.resultOf(r, d)
	if err != nil {
		return err
	}
	res.Back = Portal + "/documents"
	s.render(w, r, http.StatusOK, "result", res)
	return nil
}
