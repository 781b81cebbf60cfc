// Command loadgen is the HTTP load generator of the dancu benchmarks. It
// sends GET requests for the paths in a file, round robin, from -c
// concurrent clients for -d, to a server on the loopback interface only,
// and prints requests/s and latency percentiles. With -kind token it asks
// the OpenID token endpoint for client-credentials tokens instead.
//
//	go run ./scripts/loadgen -url http://127.0.0.1:8080 -token dcu_… -paths paths.txt -c 64 -d 30s
//	go run ./scripts/loadgen -url http://127.0.0.1:8080 -kind token -client bhxh -secret … -c 64 -d 30s
//
// With -kind verify-job it uploads the people of -people as one batch
// verification job and reports records/s from the upload to the job's end.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dancu-vn/dancu/internal/vnname"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	token := flag.String("token", "", "bearer token")
	pathsFile := flag.String("paths", "", "file with one request path per line")
	people := flag.String("people", "", "instead of -paths: a JSON Lines file of people to build requests from")
	kind := flag.String("kind", "lookup", "with -people: lookup (by personal ID), name (full name as written) or name-ascii (without diacritics); "+
		"page-record or page-search: the console's record and search pages (with -cookie of a console session); "+
		"or token: client-credentials requests to /oauth/token with -client and -secret; "+
		"or verify: POST /api/v1/verify for the people of -people with -token (an agency's) and -purpose; "+
		"or verify-job: one batch job of all of -people (at most 500,000) through POST /api/v1/verify-jobs")
	cookie := flag.String("cookie", "", "a Cookie header to send (a console session for -kind page-record and page-search)")
	purpose := flag.String("purpose", "", "with -kind verify: the agency's declared purpose")
	clientID := flag.String("client", "", "with -kind token: the client ID")
	secret := flag.String("secret", "", "with -kind token: the client secret")
	conc := flag.Int("c", 64, "concurrent clients")
	dur := flag.Duration("d", 30*time.Second, "duration (at most 10m)")
	warm := flag.Duration("warmup", 3*time.Second, "warm-up not counted")
	flag.Parse()
	if err := run(*base, *token, *cookie, *pathsFile, *people, *kind, *clientID, *secret, *purpose, *conc, *dur, *warm); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(base, token, cookie, pathsFile, people, kind, clientID, secret, purpose string, conc int, dur, warm time.Duration) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	ip := net.ParseIP(u.Hostname())
	if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-url must be on the loopback interface, not %s", u.Host)
	}
	if dur <= 0 || dur > 10*time.Minute || conc < 1 || conc > 4096 {
		return fmt.Errorf("-d must be in (0, 10m] and -c in [1, 4096]")
	}
	var paths, bodies []string
	if kind == "verify-job" {
		return batchJob(base, token, people, purpose)
	}
	if kind == "verify" {
		bodies, err = verifyBodies(people, purpose, 200000)
		if err != nil {
			return err
		}
		paths = []string{"/api/v1/verify"}
	} else if kind == "token" {
		if clientID == "" || secret == "" {
			return fmt.Errorf("-kind token needs -client and -secret")
		}
		paths = []string{"/oauth/token"}
	} else if people != "" {
		paths, err = pathsFromPeople(people, kind, 200000)
	} else {
		paths, err = readLines(pathsFile)
	}
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}, Timeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), warm+dur)
	defer cancel()
	measureFrom := time.Now().Add(warm)
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var errors, non2xx atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 1<<16)
			for ctx.Err() == nil {
				i := int(next.Add(1))
				p := paths[i%len(paths)]
				req, _ := http.NewRequestWithContext(ctx, "GET", base+p, nil)
				if kind == "verify" {
					req, _ = http.NewRequestWithContext(ctx, "POST", base+p, strings.NewReader(bodies[i%len(bodies)]))
					req.Header.Set("Content-Type", "application/json")
				}
				if kind == "token" {
					req, _ = http.NewRequestWithContext(ctx, "POST", base+p, strings.NewReader("grant_type=client_credentials&scope=openid"))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth(clientID, secret)
				}
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				if cookie != "" {
					req.Header.Set("Cookie", cookie)
				}
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						errors.Add(1)
					}
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				d := time.Since(t0)
				if t0.Before(measureFrom) {
					continue
				}
				if res.StatusCode/100 != 2 {
					non2xx.Add(1)
				}
				local = append(local, d)
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	fmt.Printf("requests %d in %s with %d clients: %.0f req/s; non-2xx %d; errors %d\n",
		len(lat), dur, conc, float64(len(lat))/dur.Seconds(), non2xx.Load(), errors.Load())
	fmt.Printf("latency p50 %s  p90 %s  p99 %s  max %s\n", pct(.50).Round(time.Microsecond), pct(.90).Round(time.Microsecond),
		pct(.99).Round(time.Microsecond), pct(1).Round(time.Microsecond))
	return nil
}

func readLines(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("-paths: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-paths: %s has no paths", name)
	}
	return out, sc.Err()
}

// pathsFromPeople builds request paths from the first max people of a
// JSON Lines file: their numbers, or their names for search.
func pathsFromPeople(name, kind string, max int) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("-people: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var out []string
	for sc.Scan() && len(out) < max {
		var p struct {
			PID  string `json:"pid"`
			Name struct{ Family, Middle, Given string }
		}
		if json.Unmarshal(sc.Bytes(), &p) != nil || p.PID == "" {
			continue
		}
		full := strings.Join(strings.Fields(p.Name.Family+" "+p.Name.Middle+" "+p.Name.Given), " ")
		switch kind {
		case "lookup":
			out = append(out, "/api/v1/citizens/"+p.PID)
		case "name":
			out = append(out, "/api/v1/citizens?limit=20&name="+url.QueryEscape(full))
		case "name-ascii":
			out = append(out, "/api/v1/citizens?limit=20&name="+url.QueryEscape(vnname.Fold(full)))
		case "page-record":
			out = append(out, "/console/citizens/"+p.PID)
		case "page-search":
			out = append(out, "/console/citizens?q="+url.QueryEscape(vnname.Fold(full)))
		default:
			return nil, fmt.Errorf("-kind: %q is not lookup, name, name-ascii, page-record or page-search", kind)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-people: no people in %s", name)
	}
	return out, sc.Err()
}

// verifyBodies builds verification requests (name without diacritics and
// date of birth) for the first max people of a JSON Lines file.
func verifyBodies(name, purpose string, max int) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("-people: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var out []string
	for sc.Scan() && len(out) < max {
		var p struct {
			PID       string `json:"pid"`
			BirthDate string `json:"birth_date"`
			Name      struct{ Family, Middle, Given string }
		}
		if json.Unmarshal(sc.Bytes(), &p) != nil || p.PID == "" {
			continue
		}
		full := strings.Join(strings.Fields(p.Name.Family+" "+p.Name.Middle+" "+p.Name.Given), " ")
		b, _ := json.Marshal(map[string]any{"pid": p.PID, "purpose": purpose,
			"claims": map[string]string{"name": vnname.Fold(full), "birth_date": p.BirthDate}})
		out = append(out, string(b))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-people: no people in %s", name)
	}
	return out, sc.Err()
}

// batchJob uploads one batch verification job of the people in a file
// (their names without diacritics and dates of birth), polls it until it
// ends, and prints records/s from the upload to the end.
func batchJob(base, token, people, purpose string) error {
	bodies, err := verifyBodies(people, purpose, 500000)
	if err != nil {
		return err
	}
	var file strings.Builder
	for _, b := range bodies {
		var v map[string]any
		json.Unmarshal([]byte(b), &v)
		delete(v, "purpose")
		line, _ := json.Marshal(v)
		file.Write(line)
		file.WriteByte('\n')
	}
	do := func(method, path string, body io.Reader) (map[string]any, error) {
		req, _ := http.NewRequest(method, base+path, body)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/x-ndjson")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		var out map[string]any
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 300 {
			return nil, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
		return out, json.Unmarshal(b, &out)
	}
	t0 := time.Now()
	job, err := do("POST", "/api/v1/verify-jobs?purpose="+url.QueryEscape(purpose), strings.NewReader(file.String()))
	if err != nil {
		return err
	}
	accepted := time.Since(t0)
	id, _ := job["id"].(string)
	for {
		j, err := do("GET", "/api/v1/verify-jobs/"+id, nil)
		if err != nil {
			return err
		}
		if j["state"] != "running" {
			took := time.Since(t0)
			fmt.Printf("job %s: %v, %v of %v records (%v matched) in %.2f s (upload and check %.2f s): %.0f records/s\n",
				id, j["state"], j["done"], j["total"], j["matched"], took.Seconds(), accepted.Seconds(), float64(len(bodies))/took.Seconds())
			if j["state"] != "done" {
				return fmt.Errorf("job %v: %v", j["state"], j["error"])
			}
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}
