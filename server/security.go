package server

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Security is MLflow's security middleware (mlflow server, MLflow 3.5 on:
// --allowed-hosts, --cors-allowed-origins, --x-frame-options): what a
// browser may make the server do.
//
//   - DNS rebinding: a request whose Host header matches none of
//     AllowedHosts gets 403, so that a web page whose name was made to
//     point at the server's address cannot reach it. /health and /version
//     are exempt, as in MLflow.
//   - Cross-site writes: a POST, PUT, PATCH or DELETE carrying the Origin
//     header of a page on another site gets 403, unless that origin is
//     allowed: a localhost origin, one of AllowedOrigins, or (unlike
//     MLflow, where the server's own UI reached by any other name needs
//     its origin listed) the server's own origin, when its Host passed a
//     list that is not "*".
//   - CORS: only allowed origins get Access-Control-Allow-Origin (MLflow
//     gives it to every origin, so any page can read an open server's
//     data from a browser on the machine); their preflight requests get
//     204 with the methods and headers asked for, others' 403.
//   - Every answer says X-Content-Type-Options: nosniff and, unless
//     FrameOptions is NONE, X-Frame-Options.
type Security struct {
	// AllowedHosts are the Host headers served, exactly or as patterns
	// with * and ? (Python's fnmatch, as MLflow's), "*" for every one; nil
	// means MLflow's default: localhost, 127.0.0.1, [::1] and 0.0.0.0
	// with any port, and the private addresses (10.*, 172.16-31.*,
	// 192.168.*, fc00:*, fd00:*), and beyond MLflow's, the machine's own
	// name (os.Hostname) with any port.
	AllowedHosts []string
	// AllowedOrigins are the origins (scheme://host[:port], patterns as
	// above, "*" for all) beyond localhost's that may write and read.
	AllowedOrigins []string
	// FrameOptions is the X-Frame-Options header: "" means SAMEORIGIN
	// (and DENY for the UI's pages, as without a guard), NONE leaves it
	// out.
	FrameOptions string
}

// DefaultAllowedHosts are MLflow's default Host patterns.
func DefaultAllowedHosts() []string {
	hosts := []string{"localhost", "127.0.0.1", "[::1]", "0.0.0.0", "localhost:*", "127.0.0.1:*", "[[]::1]:*", "0.0.0.0:*", "192.168.*", "10.*"}
	for i := 16; i < 32; i++ {
		hosts = append(hosts, fmt.Sprintf("172.%d.*", i))
	}
	return append(hosts, "fc00:*", "fd00:*")
}

// Messages of MLflow's middleware, byte for byte.
const (
	invalidHostMsg = "Invalid Host header - possible DNS rebinding attack detected"
	corsBlockedMsg = "Cross-origin request blocked"
)

// Guard is a Security made ready to serve (Options.Guard).
type Guard struct {
	hosts, origins []matcher
	anyHost        bool
	anyOrigin      bool
	frame          string // the header of every answer
	uiFrame        string // FrameOptions as given: the UI's pages keep DENY unless told
}

// NewGuard checks s and makes its guard: a bad X-Frame-Options value is
// an error.
func NewGuard(s Security) (*Guard, error) {
	g := &Guard{frame: strings.ToUpper(s.FrameOptions)}
	g.uiFrame = g.frame
	switch g.frame {
	case "":
		g.frame = "SAMEORIGIN"
	case "SAMEORIGIN", "DENY", "NONE":
	default:
		return nil, fmt.Errorf("X-Frame-Options %q: use SAMEORIGIN, DENY or NONE", s.FrameOptions)
	}
	hosts := s.AllowedHosts
	if hosts == nil {
		hosts = DefaultAllowedHosts()
		// The machine's own name too: it names this machine to whoever
		// uses it, and no attacker's page can be served under it.
		if name, err := os.Hostname(); err == nil && name != "" {
			hosts = append(hosts, name, name+":*")
		}
	}
	var err error
	if g.hosts, g.anyHost, err = compilePatterns(hosts); err != nil {
		return nil, fmt.Errorf("allowed hosts: %w", err)
	}
	if g.origins, g.anyOrigin, err = compilePatterns(s.AllowedOrigins); err != nil {
		return nil, fmt.Errorf("allowed CORS origins: %w", err)
	}
	return g, nil
}

// matcher is one compiled pattern: an exact name, a prefix (a pattern
// whose only wildcard is a final *, as all of the defaults), or a
// regular expression; lit is lower-case, as the names it is matched to.
type matcher struct {
	lit    string
	prefix bool
	re     *regexp.Regexp
}

func (m matcher) match(lower string) bool {
	switch {
	case m.re != nil:
		return m.re.MatchString(lower)
	case m.prefix:
		return strings.HasPrefix(lower, m.lit)
	}
	return lower == m.lit
}

// compilePatterns compiles fnmatch patterns, compared without regard to
// case (host names and schemes are); any is true when one is "*".
func compilePatterns(patterns []string) (res []matcher, any bool, err error) {
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		switch {
		case p == "":
			continue
		case p == "*":
			any = true
			continue
		case !strings.ContainsAny(p, "*?["):
			res = append(res, matcher{lit: p})
			continue
		case strings.IndexAny(p, "*?[") == len(p)-1 && p[len(p)-1] == '*':
			res = append(res, matcher{lit: p[:len(p)-1], prefix: true})
			continue
		}
		re, err := regexp.Compile("^" + fnmatchExpr(p) + "$")
		if err != nil {
			return nil, false, fmt.Errorf("pattern %q: %w", p, err)
		}
		res = append(res, matcher{re: re})
	}
	return res, any, nil
}

// fnmatchExpr translates a pattern of Python's fnmatch (* any run, ? one
// character, [seq] and [!seq] a set) into a regular expression.
func fnmatchExpr(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := i + 1
			if j < len(p) && p[j] == '!' {
				j++
			}
			if j < len(p) && p[j] == ']' {
				j++
			}
			for j < len(p) && p[j] != ']' {
				j++
			}
			if j >= len(p) { // no closing bracket: a literal [
				b.WriteString(`\[`)
				continue
			}
			set := p[i+1 : j]
			if strings.HasPrefix(set, "!") {
				set = "^" + set[1:]
			} else if strings.HasPrefix(set, "^") {
				set = `\` + set
			}
			b.WriteString("[" + strings.ReplaceAll(set, `\`, `\\`) + "]")
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

func matchAny(ms []matcher, s string) bool {
	lower := strings.ToLower(s)
	return slices.ContainsFunc(ms, func(m matcher) bool { return m.match(lower) })
}

// hostOK reports whether the Host header is served.
func (g *Guard) hostOK(host string) bool {
	return host != "" && (g.anyHost || matchAny(g.hosts, host))
}

// originOK reports whether a page of origin may write to the server and
// read its answers: localhost, an allowed origin, or the server's own
// (its host validated by a list that is not "*").
func (g *Guard) originOK(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	if g.anyOrigin || matchAny(g.origins, origin) {
		return true
	}
	return !g.anyHost && strings.EqualFold(u.Host, host)
}

// admit applies the guard to a request, whose path may start with the
// server's static prefix: false when it has been answered (403, or a
// preflight's 204), with why when it was refused.
func (g *Guard) admit(w http.ResponseWriter, r *http.Request, prefix string) (ok bool, refused string) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if g.frame != "NONE" {
		h.Set("X-Frame-Options", g.frame)
	}
	switch strings.TrimPrefix(r.URL.Path, prefix) {
	case "/health", "/version": // probes, which name the server as they like
	default:
		if !g.hostOK(r.Host) {
			refuse(w, invalidHostMsg)
			return false, "its Host is not among the allowed hosts (--allowed-hosts)"
		}
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true, ""
	}
	h.Add("Vary", "Origin")
	allowed := g.originOK(origin, r.Host)
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	switch {
	case !allowed && (preflight || stateChanging(r.Method)):
		refuse(w, corsBlockedMsg)
		return false, "its Origin is not among the allowed origins (--cors-allowed-origins)"
	case !allowed:
		return true, "" // served, but not readable by the page
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	if !preflight {
		h.Set("Access-Control-Expose-Headers", "*")
		return true, ""
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS, PATCH")
	if asked := r.Header.Get("Access-Control-Request-Headers"); asked != "" {
		h.Set("Access-Control-Allow-Headers", asked)
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return false, ""
}

func stateChanging(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

func refuse(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprint(w, msg)
}
