package auth

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/internal/problem"
)

// Access is what a route requires of its caller.
type Access int

// The access levels, from least to most.
const (
	// Public routes need no sign-in (health, readiness, metrics, sign-in itself, assets).
	Public Access = iota
	// SignedIn routes need any signed-in caller; the handler narrows to what the caller
	// may see (their own access, their own tokens).
	SignedIn
	// Auditor routes need an auditor or an admin.
	Auditor
	// Admin routes need an admin.
	Admin
)

func (a Access) String() string {
	return [...]string{"public", "signed-in", "auditor", "admin"}[a]
}

// Allows says whether c may call a route that requires a.
func (a Access) Allows(c *Caller) bool {
	switch a {
	case Public:
		return true
	case SignedIn:
		return c != nil
	case Auditor:
		return c.CanAudit()
	case Admin:
		return c.IsAdmin()
	}
	return false
}

// Route is one registered route.
type Route struct {
	Method  string // GET, POST, ...
	Pattern string // a net/http pattern path, e.g. /api/v1/syncs/{id}
	Access  Access
}

// Router registers every route with the access it requires. Identify must run before it
// (it puts the caller in the request's context); Router then answers 401 to anonymous
// callers of non-public routes (API: a problem document; pages: a redirect to sign-in)
// and 403 to callers without the role.
type Router struct {
	mux    *http.ServeMux
	routes []Route
	// forbiddenPage, when set, answers a page (not API) request its route refuses; the
	// web UI sets it (SetForbiddenPage) to show its own 403 page.
	forbiddenPage func(w http.ResponseWriter, r *http.Request, detail string)
}

// SetForbiddenPage makes f answer the page requests (not the API's) of signed-in callers
// a route's access refuses, instead of Forbidden's plain text.
func (r *Router) SetForbiddenPage(f func(w http.ResponseWriter, r *http.Request, detail string)) {
	r.forbiddenPage = f
}

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{mux: http.NewServeMux()} }

// Handle registers h for method and pattern, reachable only by callers access allows.
func (r *Router) Handle(method, pattern string, access Access, h http.Handler) {
	r.routes = append(r.routes, Route{Method: method, Pattern: pattern, Access: access})
	r.mux.Handle(method+" "+pattern, r.guard(access, h))
}

// HandleFunc is Handle for a function.
func (r *Router) HandleFunc(method, pattern string, access Access, h http.HandlerFunc) {
	r.Handle(method, pattern, access, h)
}

// Routes lists every registered route, in registration order (the route-walk test uses it).
func (r *Router) Routes() []Route { return append([]Route(nil), r.routes...) }

// ServeHTTP dispatches to the registered routes.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.mux.ServeHTTP(w, req) }

func (r *Router) guard(access Access, h http.Handler) http.Handler {
	if access == Public {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c := FromContext(req.Context())
		if c == nil {
			Unauthorized(w, req)
			return
		}
		if !access.Allows(c) {
			detail := "this needs the " + access.String() + " role"
			if r.forbiddenPage != nil && !IsAPI(req) {
				r.forbiddenPage(w, req, detail)
				return
			}
			Forbidden(w, req, detail)
			return
		}
		h.ServeHTTP(w, req)
	})
}

// IsAPI says whether the request is for the JSON API (errors as problem documents).
func IsAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// Unauthorized answers a caller who is not signed in: 401 with a problem document for the
// API, a redirect to the sign-in page (back to where they were going) for pages.
func Unauthorized(w http.ResponseWriter, r *http.Request) {
	if IsAPI(r) || r.Method != http.MethodGet {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
		if IsAPI(r) {
			problem.Write(w, http.StatusUnauthorized, "sign in, or send an API token as Authorization: Bearer <token> (gatehouse token create)")
			return
		}
		http.Error(w, "Sign in first.", http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

// Forbidden answers a signed-in caller who may not do this.
func Forbidden(w http.ResponseWriter, r *http.Request, detail string) {
	if IsAPI(r) {
		problem.Write(w, http.StatusForbidden, detail)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write([]byte("Forbidden: " + detail + ".\n"))
}
