-- Short links of issued documents: the QR code of a residence confirmation
-- holds PUBLIC_URL/v/CODE, an unguessable code that names the dossier whose
-- signed result it is. The signed document stays in dossier.result.
CREATE TABLE document_link (
	code TEXT PRIMARY KEY,
	dossier_id TEXT NOT NULL UNIQUE,
	created_at TIMESTAMPTZ NOT NULL
);
