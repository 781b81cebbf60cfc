package events

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
)

// A webhook is a URL an agency chose and the server POSTs to: without
// limits it would let an agency make the server call its own API, the
// database, the cloud metadata service or anything else on the internal
// network. So a webhook must be https to a public address, checked twice:
// when subscribing (the URL as written) and when connecting (every address
// the name resolves to at that moment, which stops a name that resolved to
// a public address at subscription and to an internal one later).

// nonPublic are the ranges a webhook may not reach besides the ones
// netip.Addr classifies itself (loopback, private, link-local,
// multicast, unspecified): special-purpose blocks of RFC 6890 and its
// successors that are either internal or not meant to be routed.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the broadcast address
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: an IPv4 address in disguise
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local NAT64
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments (Teredo, ORCHID…)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: an IPv4 address in disguise
	netip.MustParsePrefix("fc00::/7"),        // unique local (ULA)
	netip.MustParsePrefix("fec0::/10"),       // site-local, deprecated
}

// publicAddr reports whether a webhook may connect to a.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() || a.IsMulticast() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() {
		return false
	}
	return !slices.ContainsFunc(nonPublic, func(p netip.Prefix) bool { return p.Contains(a) })
}

// canonicalHost is host as compared with the allow list: lower case,
// without brackets, a zone or the final dot of a fully qualified name.
func canonicalHost(host string) string {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if a, err := netip.ParseAddr(host); err == nil {
		return a.WithZone("").Unmap().String()
	}
	return host
}

func (s *Service) allowed(host string) bool {
	return slices.Contains(s.allow, canonicalHost(host))
}

// checkURL returns why rawURL cannot be a webhook, or "" if it can.
func (s *Service) checkURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "must be an absolute https URL"
	}
	if u.User != nil {
		return "must not carry a user name or password"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "has no valid port"
		}
	}
	host := canonicalHost(u.Hostname())
	if s.allowed(host) && (u.Scheme == "https" || u.Scheme == "http") {
		return ""
	}
	if u.Scheme != "https" {
		return "must use https"
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return "must not name localhost"
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !publicAddr(a) {
			return fmt.Sprintf("must not point to a loopback, private, link-local or other non-public address (%s)", a)
		}
		return ""
	}
	// A name whose last label is a number is no DNS name but an address
	// written another way (2130706433, 0x7f.1, 127.1), which some
	// resolvers still turn into an internal address.
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" || strings.IndexFunc(last, func(r rune) bool { return r < '0' || r > '9' }) < 0 || strings.HasPrefix(last, "0x") {
		return "must be a DNS name or a public IP address"
	}
	return ""
}

// resolver is what the dialer asks for a host's addresses;
// *net.Resolver is one.
type resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// newClient is the HTTP client of the deliveries. It does not follow
// redirects (a receiver could redirect to an internal address, and an
// answer 3xx is no receipt), uses no proxy from the environment (the
// address check must see the receiver's address, not a proxy's), and
// connects only through dial.
func (s *Service) newClient() *http.Client {
	return &http.Client{
		Timeout:       sendTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           s.dial,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: sendTimeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
		},
	}
}

// errNotPublic marks a connection refused by the address check.
var errNotPublic = errors.New("not a public address")

// dial connects to a webhook host: it resolves the name once, refuses if
// any address is not public (unless the host is allowed), and connects
// to the addresses it checked, never to a second answer of the resolver.
// The socket's own address is checked once more just before connecting.
func (s *Service) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("webhook port %q: %w", portText, err)
	}
	allowed := s.allowed(host)
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if addrs, err = s.resolver.LookupNetIP(ctx, "ip", host); err != nil {
		return nil, err
	}
	if !allowed {
		for _, a := range addrs {
			if !publicAddr(a) {
				return nil, errs.Wrap(errs.Forbidden, errNotPublic, "webhook host %s resolves to %s", host, a.Unmap())
			}
		}
	}
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		if !allowed && !publicAddr(ap.Addr()) {
			return errs.Wrap(errs.Forbidden, errNotPublic, "webhook connection to %s refused", ap.Addr())
		}
		return nil
	}}
	var last error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, network, netip.AddrPortFrom(a, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		last = err
	}
	if last == nil {
		last = fmt.Errorf("webhook host %s has no address", host)
	}
	return nil, last
}
