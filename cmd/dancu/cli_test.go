package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/pki"
	"github.com/dancu-vn/dancu/internal/server"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// runCLI runs one dancu command line and returns its output.
func runCLI(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestMigrateCommand(t *testing.T) {
	db := sqldbtest.URL(t, "sqlite")
	out, _, err := runCLI(t, nil, "migrate", "--db", db)
	if err != nil || !strings.Contains(out, "applied migrations") {
		t.Fatalf("migrate: %q, %v", out, err)
	}
	out, _, err = runCLI(t, nil, "migrate", "--db", db)
	if err != nil || !strings.Contains(out, "already at schema version") {
		t.Fatalf("second migrate: %q, %v", out, err)
	}
	out, _, err = runCLI(t, map[string]string{"DANCU_DB": db}, "migrate", "--status")
	if err != nil || !strings.Contains(out, "schema version") {
		t.Fatalf("migrate --status via DANCU_DB: %q, %v", out, err)
	}
}

func TestServeRefusesNewerSchema(t *testing.T) {
	url := sqldbtest.URL(t, "sqlite")
	db, err := sqldb.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.Exec(`INSERT INTO schema_migration (version, name, applied_at) VALUES ($1, 'from-the-future', $2)`, sqldb.LatestVersion()+1, time.Now().UTC())
	db.Close()
	_, _, err = runCLI(t, map[string]string{"DANCU_ADMIN_PASSWORD": adminPassword}, "serve", "--db", url, "--addr", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "newer than this dancu binary") {
		t.Fatalf("serve on a newer schema: %v", err)
	}
}

func TestUserCommands(t *testing.T) {
	db := sqldbtest.URL(t, "sqlite")
	env := map[string]string{"DANCU_USER_PASSWORD": "Lan-pass-2026!"}
	out, _, err := runCLI(t, env, "user", "create", "lan", "--db", db, "--role", "registrar", "--level", "commune", "--unit", "00004", "--name", "Nguyễn Thị Lan")
	if err != nil || !strings.Contains(out, "created lan") {
		t.Fatalf("user create: %q, %v", out, err)
	}
	_, _, err = runCLI(t, env, "user", "create", "lan", "--db", db, "--unit", "00004")
	if err == nil || !strings.Contains(err.Error(), "username") {
		t.Fatalf("duplicate user: %v", err)
	}
	_, _, err = runCLI(t, env, "user", "create", "bad", "--db", db, "--unit", "99999")
	if err == nil || !strings.Contains(err.Error(), "jurisdiction.code") {
		t.Fatalf("unknown unit: %v", err)
	}
	_, _, err = runCLI(t, map[string]string{"DANCU_USER_PASSWORD": "short"}, "user", "create", "weak", "--db", db, "--unit", "00004")
	if err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("weak password: %v", err)
	}
	out, _, err = runCLI(t, nil, "user", "list", "--db", db)
	if err != nil || !strings.Contains(out, "lan") || !strings.Contains(out, "commune 00004") {
		t.Fatalf("user list: %q, %v", out, err)
	}
	out, _, err = runCLI(t, nil, "user", "token", "lan", "--db", db, "--name", "script")
	if err != nil || !strings.HasPrefix(out, "dcu_") {
		t.Fatalf("user token: %q, %v", out, err)
	}
	// The token works against the server.
	srv := startServer(t, db)
	c := &client{t: t, base: srv.URL, token: strings.TrimSpace(out)}
	var me struct{ Username string }
	c.must(200, "GET", "/api/v1/me", nil).json(t, &me)
	if me.Username != "lan" {
		t.Fatalf("token belongs to %q", me.Username)
	}
	if _, _, err := runCLI(t, nil, "user", "disable", "lan", "--db", db); err != nil {
		t.Fatal(err)
	}
	expectProblem(t, c.do("GET", "/api/v1/me", nil), 401, "")
}

func TestVersionAndConfig(t *testing.T) {
	out, _, err := runCLI(t, nil, "version")
	if err != nil || !strings.HasPrefix(out, "dancu ") {
		t.Fatalf("version: %q, %v", out, err)
	}
	out, _, err = runCLI(t, map[string]string{"DANCU_ADMIN_PASSWORD": "Secret-123!", "DANCU_DB": "postgres://u:hunter2@db/x"}, "config")
	if err != nil || strings.Contains(out, "Secret-123!") || strings.Contains(out, "hunter2") || !strings.Contains(out, "xxxxx") {
		t.Fatalf("config must mask secrets: %q, %v", out, err)
	}
	if _, _, err := runCLI(t, nil, "serve", "--log-level", "loud", "--db", sqldbtest.URL(t, "sqlite")); err == nil {
		t.Fatal("a bad log level was accepted")
	}
}

func TestServeDemo(t *testing.T) {
	srv := startServer(t, sqldbtest.URL(t, "sqlite"), "--demo")
	lan := login(t, srv.URL, "badinh", "Demo-2026!")
	var page struct{ Items []struct{ PID string } }
	lan.must(200, "GET", "/api/v1/citizens?province=01&limit=50", nil).json(t, &page)
	if len(page.Items) < 10 {
		t.Fatalf("the demo has %d people in Hà Nội, want a sample population", len(page.Items))
	}
	var family struct{ Children []struct{ Name string } }
	lan.must(200, "GET", "/api/v1/citizens/001085012345", nil).json(t, &family)
	if len(family.Children) != 1 {
		t.Fatalf("demo family: %+v", family)
	}
	// The demo portal logs a demo citizen in through the provider and shows
	// what was shared; the level-2 bank refuses a level-1 account.
	b := newBrowser(t, "no redirect is the relying party's here")
	res, html := b.get(srv.URL + "/demo/portal/start?client=demo-portal")
	id := res.Request.URL.Query().Get("id")
	if res.StatusCode != 200 || id == "" || !strings.Contains(html, "Cổng dịch vụ công (demo)") {
		t.Fatalf("demo portal login page: %d %s", res.StatusCode, html)
	}
	b.post(srv.URL+"/login", url.Values{"id": {id}, "pid": {"001085012345"}, "password": {server.DemoPassword}})
	res, html = b.post(srv.URL+"/login/consent", url.Values{"id": {id}, "decision": {"allow"}})
	if res.StatusCode != 200 || !strings.Contains(html, "Nguyễn Văn An") || !strings.Contains(html, "urn:dancu:loa:2") {
		t.Fatalf("demo portal after login: %d %s", res.StatusCode, html)
	}
	res, _ = b.get(srv.URL + "/demo/portal/start?client=demo-bank")
	id = res.Request.URL.Query().Get("id")
	res, html = b.post(srv.URL+"/login", url.Values{"id": {id}, "pid": {"001188054321"}, "password": {server.DemoPassword}})
	if res.StatusCode != 403 || !strings.Contains(html, "mức độ 2") {
		t.Fatalf("level-1 demo account at the level-2 bank: %d %s", res.StatusCode, html)
	}
}

// TestFirstStartMakesDataKey: on a fresh machine nothing needs configuring:
// the first command that needs the data key makes one beside the database.
func TestFirstStartMakesDataKey(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "d.db")
	if _, _, err := runCLI(t, nil, "client", "create", "first", "--db", db, "--name", "First", "--type", "service"); err != nil {
		t.Fatalf("client create without a configured key: %v", err)
	}
	if _, _, err := runCLI(t, nil, "client", "rotate-key", "--db", db); err != nil {
		t.Fatalf("a second command with the key it made: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data.key")); err != nil {
		t.Fatal(err)
	}
	// `dancu config` says which key is in effect, never the key itself.
	key, _ := os.ReadFile(filepath.Join(dir, "data.key"))
	out, _, err := runCLI(t, nil, "config", "--db", db)
	if err != nil || !strings.Contains(out, "data key          file "+filepath.Join(dir, "data.key")+" beside the database (in use") ||
		strings.Contains(out, strings.TrimSpace(string(key))) {
		t.Errorf("config with the key beside the database:\n%s%v", out, err)
	}
	out, _, _ = runCLI(t, map[string]string{"DANCU_DATA_KEY_FILE": "/nonexistent/k"}, "config", "--db", db)
	if !strings.Contains(out, "file /nonexistent/k (DANCU_DATA_KEY_FILE; cannot be read") {
		t.Errorf("config with an unreadable key file:\n%s", out)
	}
	out, _, _ = runCLI(t, nil, "config", "--db", "sqlite:"+filepath.Join(t.TempDir(), "x.db"))
	if !strings.Contains(out, "data key          not set") {
		t.Errorf("config without a key:\n%s", out)
	}
}

func TestClientCommand(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "d.db")
	env := map[string]string{"DANCU_DATA_KEY": testDataKey}
	out, _, err := runCLI(t, env, "client", "create", "dichvucong", "--db", db, "--name", "Cổng Dịch vụ công", "--type", "web",
		"--redirect-uri", "https://dichvucong.example.vn/callback", "--scopes", "profile,pid", "--min-level", "2")
	if err != nil || !strings.Contains(out, "created client dichvucong (web, client_secret_basic, level 2)") || !strings.Contains(out, "client secret (shown once): ") {
		t.Fatalf("client create = %q, %v", out, err)
	}
	_, _, err = runCLI(t, env, "client", "create", "bad", "--db", db, "--name", "X", "--type", "web", "--redirect-uri", "http://example.vn/cb")
	if err == nil || !strings.Contains(err.Error(), "redirect_uris[0]") || !strings.Contains(err.Error(), "https") {
		t.Errorf("client create with an http redirect URI = %v", err)
	}
	out, _, err = runCLI(t, env, "client", "list", "--db", db)
	if err != nil || !strings.Contains(out, "dichvucong") || !strings.Contains(out, "openid profile pid") || strings.Contains(out, "bad") {
		t.Errorf("client list = %q, %v", out, err)
	}
	out, _, err = runCLI(t, env, "client", "rotate-key", "--db", db)
	if err != nil || !strings.Contains(out, "new signing key") {
		t.Errorf("client rotate-key = %q, %v", out, err)
	}
}

// TestAuditCommands: seal (copying the checkpoint outside), verify intact,
// prove an entry, then tamper with the database directly and see verify
// name the entry and fail.
func TestAuditCommands(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) {
			db := sqldbtest.URL(t, engine)
			outside := t.TempDir()
			env := map[string]string{"DANCU_DATA_KEY": testDataKey, "DANCU_AUDIT_CHECKPOINT_DIR": outside}
			for _, id := range []string{"one", "two", "three"} {
				if _, _, err := runCLI(t, env, "client", "create", "svc-"+id, "--db", db, "--name", id, "--type", "service"); err != nil {
					t.Fatal(err)
				}
			}
			out, _, err := runCLI(t, env, "audit", "seal", "--db", db)
			if err != nil || !strings.Contains(out, "sealed 3 events") {
				t.Fatalf("audit seal = %q, %v", out, err)
			}
			out, _, err = runCLI(t, env, "audit", "verify", "--db", db)
			if err != nil || !strings.Contains(out, "3 entries, 1 signed checkpoints (covering 3), 0 events not sealed yet, dir:"+outside+" pins 3: intact") {
				t.Fatalf("audit verify = %q, %v", out, err)
			}
			vkey, _, err := runCLI(t, env, "audit", "key", "--db", db)
			if err != nil || !strings.HasPrefix(vkey, "dancu/access-log+") {
				t.Fatalf("audit key = %q, %v", vkey, err)
			}
			out, _, err = runCLI(t, env, "audit", "verify", "--db", db, "--verifier-key", strings.TrimSpace(vkey))
			if err != nil || !strings.HasSuffix(out, ": intact\n") {
				t.Fatalf("audit verify with the key pinned = %q, %v", out, err)
			}
			out, _, err = runCLI(t, env, "audit", "prove", "1", "--db", db)
			if err != nil || !strings.Contains(out, `"index": 1`) || !strings.Contains(out, `"checkpoint": "dancu/access-log\n3\n`) {
				t.Fatalf("audit prove 1 = %q, %v", out, err)
			}
			if _, _, err := runCLI(t, env, "audit", "prove", "3", "--db", db); !errs.Is(err, errs.NotFound) {
				t.Errorf("audit prove past the end = %v", err)
			}
			conn, err := sqldb.Open(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			drop := `DROP TRIGGER access_event_no_update`
			if conn.Dialect == sqldb.Postgres {
				drop = `ALTER TABLE access_event DISABLE TRIGGER access_event_append_only`
			}
			if _, err := conn.Exec(drop); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(`UPDATE access_event SET detail = 'svc-nobody' WHERE id = (SELECT event_id FROM audit_leaf WHERE idx = 1)`); err != nil {
				t.Fatal(err)
			}
			out, _, err = runCLI(t, env, "audit", "verify", "--db", db)
			if err == nil || !strings.Contains(out, "index 1: modified") || !strings.Contains(out, "the first at index 1") {
				t.Fatalf("audit verify after tampering = %q, %v", out, err)
			}
		})
	}
}

// TestAuditVerifyMakesNoKey: verifying a log never makes the keys it would
// check with: without the data key it fails and leaves none behind, and on
// a log never sealed it makes no note key.
func TestAuditVerifyMakesNoKey(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "d.db")
	if _, _, err := runCLI(t, nil, "audit", "verify", "--db", db); err == nil || !strings.Contains(err.Error(), "DANCU_DATA_KEY") {
		t.Fatalf("audit verify without a data key = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("audit verify made a data key: %v", err)
	}
	env := map[string]string{"DANCU_DATA_KEY": testDataKey}
	out, _, err := runCLI(t, env, "audit", "verify", "--db", db)
	if err != nil || !strings.Contains(out, "0 entries") || !strings.Contains(out, "no outside copy given") {
		t.Fatalf("audit verify of an empty log = %q, %v", out, err)
	}
	if _, _, err := runCLI(t, env, "audit", "key", "--db", db); !errs.Is(err, errs.NotFound) {
		t.Errorf("a note key exists after verify: %v", err)
	}
}

// TestServeRefusesDataKeyBesideData: outside the demo, serve does not make
// or use a data key kept beside the database.
func TestServeRefusesDataKeyBesideData(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "d.db")
	_, _, err := runCLI(t, map[string]string{"DANCU_ADMIN_PASSWORD": adminPassword}, "serve", "--db", db, "--addr", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "DANCU_DATA_KEY_FILE") {
		t.Fatalf("serve without a data key = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("serve made a data key beside the database: %v", err)
	}
}

func TestAgencyCommand(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "d.db")
	env := map[string]string{"DANCU_DATA_KEY": testDataKey}
	if _, _, err := runCLI(t, env, "client", "create", "bhxh", "--db", db, "--name", "BHXH", "--type", "service"); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, env, "agency", "create", "bhxh", "--db", db, "--name", "Bảo hiểm xã hội Việt Nam", "--kind", "ministry",
		"--services", "verify,query", "--fields", "name,birth_date", "--purposes", "social insurance")
	if err != nil || !strings.Contains(out, "agency bhxh (ministry): verify, query; purposes: social insurance") {
		t.Fatalf("agency create = %q, %v", out, err)
	}
	_, _, err = runCLI(t, env, "agency", "create", "nobody", "--db", db, "--name", "X", "--kind", "bank", "--services", "verify", "--purposes", "x")
	if err == nil || !strings.Contains(err.Error(), "id") {
		t.Errorf("agency create for an unknown client = %v", err)
	}
	out, _, err = runCLI(t, env, "agency", "list", "--db", db)
	if err != nil || !strings.Contains(out, "bhxh") || !strings.Contains(out, "name,birth_date") || !strings.Contains(out, "active") {
		t.Errorf("agency list = %q, %v", out, err)
	}
	if out, _, err = runCLI(t, env, "agency", "disable", "bhxh", "--db", db); err != nil || !strings.Contains(out, "agency bhxh disabled") {
		t.Fatalf("agency disable = %q, %v", out, err)
	}
	out, _, _ = runCLI(t, env, "agency", "list", "--db", db)
	if !strings.Contains(out, "disabled") {
		t.Errorf("agency list after disable = %q", out)
	}
	if _, _, err := runCLI(t, env, "agency", "enable", "nobody", "--db", db); err == nil {
		t.Error("enabling an unknown agency succeeded")
	}
}

// TestPKICommand: init makes a CSCA and a DS whose chain verifies; a
// second init is refused; rotate-ds makes a new signer under the same CSCA.
func TestPKICommand(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "d.db")
	env := map[string]string{"DANCU_DATA_KEY": testDataKey}
	out, _, err := runCLI(t, env, "pki", "init", "--db", db)
	if err != nil || !strings.Contains(out, "CSCA CSCA Viet Nam") || !strings.Contains(out, "Document Signer") {
		t.Fatalf("pki init = %q, %v", out, err)
	}
	if _, _, err := runCLI(t, env, "pki", "init", "--db", db); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("a second pki init: %v", err)
	}
	out, _, err = runCLI(t, env, "pki", "rotate-ds", "--db", db)
	if err != nil || !strings.Contains(out, "now signs new cards") {
		t.Fatalf("pki rotate-ds = %q, %v", out, err)
	}
	conn, err := sqldb.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var active, all int
	conn.QueryRow(`SELECT COUNT(*) FROM pki_authority WHERE role = 'ds' AND active`).Scan(&active)
	conn.QueryRow(`SELECT COUNT(*) FROM pki_authority WHERE role = 'ds'`).Scan(&all)
	if active != 1 || all != 2 {
		t.Errorf("%d active of %d document signers", active, all)
	}
	// With another data key, the keys do not open.
	if _, _, err := runCLI(t, map[string]string{"DANCU_DATA_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}, "pki", "rotate-ds", "--db", db); err == nil {
		t.Error("rotate-ds worked with another data key")
	}
	// Revoking the active signer: a CRL at once, and a new signer.
	var der []byte
	conn.QueryRow(`SELECT cert FROM pki_authority WHERE role = 'ds' AND active`).Scan(&der)
	ds, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err = runCLI(t, env, "pki", "revoke-ds", fmt.Sprintf("%x", ds.SerialNumber), "--reason", "keyCompromise", "--db", db)
	if err != nil || !strings.Contains(out, "revoked (keyCompromise); CRL 2 issued") || !strings.Contains(out, "now signs new cards") {
		t.Errorf("pki revoke-ds = %q, %v", out, err)
	}
	if _, _, err := runCLI(t, env, "pki", "revoke-ds", "00ff", "--db", db); err == nil || !strings.Contains(err.Error(), "no document signer") {
		t.Errorf("revoke-ds of an unknown serial: %v", err)
	}
	out, _, err = runCLI(t, env, "pki", "maintain", "--db", db)
	if err != nil || !strings.Contains(out, "CRL next update") || strings.Contains(out, "new ") {
		t.Errorf("pki maintain right after a revocation = %q, %v", out, err)
	}
	// Renewing the CSCA, and the master list with both CSCAs and the link.
	out, _, err = runCLI(t, env, "pki", "rotate-csca", "--db", db)
	if err != nil || !strings.Contains(out, "now certifies new Document Signers") || !strings.Contains(out, "link certificate serial") {
		t.Fatalf("pki rotate-csca = %q, %v", out, err)
	}
	ml := filepath.Join(t.TempDir(), "ml.der")
	if _, _, err := runCLI(t, env, "pki", "master-list", "--out", ml, "--db", db); err != nil {
		t.Fatal(err)
	}
	der, err = os.ReadFile(ml)
	p7, perr := pkcs7.Parse(der)
	if err != nil || perr != nil || p7.Verify() != nil {
		t.Fatalf("master list: %v %v", err, perr)
	}
	if certs, err := pki.ParseMasterList(p7.Content); err != nil || len(certs) != 3 {
		t.Errorf("master list holds %d certificates: %v", len(certs), err)
	}
}

// TestCSCAPublished: the CSCA certificate and its CRL are at well-known
// URLs, and the CRL is signed by the CSCA.
func TestCSCAPublished(t *testing.T) {
	db := sqldbtest.URL(t, "sqlite")
	srv := startServer(t, db)
	anon := &client{t: t, base: srv.URL}
	if r := anon.do("GET", "/.well-known/dancu-csca.crt", nil); r.Status != 404 {
		t.Fatalf("before pki init: %d", r.Status)
	}
	if _, _, err := runCLI(t, map[string]string{"DANCU_DATA_KEY": testDataKey}, "pki", "init", "--db", db); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(anon.must(200, "GET", "/.well-known/dancu-csca.crt", nil).Body)
	if err != nil || !cert.IsCA || cert.Subject.Country[0] != "VN" || cert.Issuer.Country[0] != "VN" {
		t.Fatalf("CSCA certificate %v, %v", cert, err)
	}
	r := anon.must(200, "GET", "/.well-known/dancu-csca.crl", nil)
	crl, err := x509.ParseRevocationList(r.Body)
	if err != nil || crl.CheckSignatureFrom(cert) != nil {
		t.Fatalf("CRL %v, %v", crl, err)
	}
	// Cached by relying parties, never past its next update.
	if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=86400" || r.Header.Get("ETag") == "" || r.Header.Get("Expires") == "" {
		t.Errorf("CRL caching: Cache-Control %q, ETag %q, Expires %q", cc, r.Header.Get("ETag"), r.Header.Get("Expires"))
	}
	if r2 := anon.do("GET", "/.well-known/dancu-csca.crl", nil, "If-None-Match", r.Header.Get("ETag")); r2.Status != 304 {
		t.Errorf("CRL with its ETag: %d", r2.Status)
	}
	if r2 := anon.do("GET", fmt.Sprintf("/.well-known/dancu-csca.crl?ski=%x", cert.SubjectKeyId), nil); r2.Status != 200 {
		t.Errorf("CRL by the CSCA's key identifier: %d", r2.Status)
	}
	expectProblem(t, anon.do("GET", "/.well-known/dancu-csca.crl?ski=00", nil), 404, "")
	mlr := anon.must(200, "GET", "/.well-known/dancu-csca-masterlist.ml", nil)
	if p7, err := pkcs7.Parse(mlr.Body); err != nil || p7.Verify() != nil {
		t.Errorf("master list: %v", err)
	}
	// A card through the API, and its chip checked by a relying party.
	admin := login(t, srv.URL, "admin", adminPassword)
	admin.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": "001090123456", "name": map[string]string{"family": "Nguyễn", "middle": "Văn", "given": "An"},
		"birth_date": "1990-05-17", "sex": "male", "permanent_residence": map[string]string{"commune": "00004"}})
	var app struct{ ID string }
	face := portrait(3000)
	prints := []map[string]any{{"finger": "right_index", "template": []byte("FMR right")}, {"finger": "left_index", "template": []byte("FMR left")}}
	expectProblem(t, admin.do("POST", "/api/v1/cards/applications", map[string]any{"pid": "001090123456", "kind": "first", "fingerprints": prints}), 422, "body.photo")
	admin.must(201, "POST", "/api/v1/cards/applications", map[string]any{"pid": "001090123456", "kind": "first", "photo": face, "fingerprints": prints}).json(t, &app)
	expectProblem(t, admin.do("POST", "/api/v1/cards/applications", map[string]any{"pid": "001090123456", "kind": "reissue", "photo": face, "fingerprints": prints}), 422, "body.reason")
	admin.must(200, "POST", "/api/v1/cards/applications/"+app.ID+"/decision", map[string]any{"approve": true})
	var c struct {
		ID, Status string
		ExpiresOn  string `json:"expires_on"`
	}
	admin.must(201, "POST", "/api/v1/cards/applications/"+app.ID+"/produce", nil).json(t, &c)
	var chip struct {
		SOD        []byte            `json:"sod"`
		DataGroups map[string][]byte `json:"data_groups"`
	}
	admin.must(200, "GET", "/api/v1/cards/"+c.ID+"/chip", nil).json(t, &chip)
	sod, dg1, dg2, dg13 := chip.SOD, chip.DataGroups["1"], chip.DataGroups["2"], chip.DataGroups["13"]
	if len(sod) == 0 || len(dg1) == 0 || len(dg2) == 0 || len(dg13) == 0 {
		t.Fatalf("chip %+v", chip)
	}
	expectProblem(t, anon.do("GET", "/api/v1/cards/"+c.ID+"/chip", nil), 401, "")
	var v struct {
		Valid      bool
		CardStatus string `json:"card_status"`
	}
	admin.must(200, "POST", "/api/v1/cards/verify", map[string]any{"sod": sod, "data_groups": map[string][]byte{"1": dg1, "2": dg2, "13": dg13}}).json(t, &v)
	if !v.Valid || v.CardStatus != "active" {
		t.Errorf("passive authentication: %+v", v)
	}
	// Comparing with the registry is for member agencies, not officers.
	expectProblem(t, admin.do("POST", "/api/v1/cards/verify", map[string]any{"sod": sod, "data_groups": map[string][]byte{"13": dg13}, "compare_registry": true}), 403, "")
	dg1[20] ^= 1
	admin.must(200, "POST", "/api/v1/cards/verify", map[string]any{"sod": sod, "data_groups": map[string][]byte{"1": dg1, "13": dg13}}).json(t, &v)
	if v.Valid {
		t.Error("a changed DG1 passed")
	}
	expectProblem(t, anon.do("POST", "/api/v1/cards/verify", map[string]any{"sod": sod, "data_groups": map[string][]byte{"1": dg1}}), 401, "")
}
