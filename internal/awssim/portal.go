package awssim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The AWS access portal API (the "sso" SDK client, signing name awsssoportal): how an
// Identity Center user who has signed in turns a permission set assignment into role
// credentials. It is REST-JSON, unsigned, and authorised by the user's portal access
// token in the x-amz-sso_bearer_token header:
//
//	GET  /federation/credentials?role_name=&account_id=   GetRoleCredentials
//	GET  /assignment/accounts                             ListAccounts
//	GET  /assignment/roles?account_id=                    ListAccountRoles
//	POST /logout                                          Logout
//
// Signing in (the browser flow and SSO OIDC's CreateToken) is not modelled: a test or a
// person gets a user's access token from World.SignInToPortal or from the admin endpoint
// POST /_sim/portal/sign-in.
//
// The credentials GetRoleCredentials returns are a session of the permission set's
// AWSReservedSSO_ role in the account, issued now (aws:TokenIssueTime) for the user
// (identitystore:UserId) and lasting the permission set's session duration. Its requests
// are authorised by the role's policies as they were last provisioned: a permission set
// edited but not provisioned again does not change them, as in AWS. Deleting the
// assignment does not end the session either: it runs until it expires unless a Deny in
// the provisioned inline policy stops it, which is AWS's documented way to end it.

// PortalSessionDuration is how long a portal access token lasts: the AWS access portal's
// default session duration (8 hours).
const PortalSessionDuration = 8 * time.Hour

// PortalToken is the access token of an Identity Center user signed in to the AWS access
// portal.
type PortalToken struct {
	Token      string
	UserID     string
	Expiration time.Time
}

// SignInToPortal signs the Identity Center user in to the AWS access portal and returns
// the access token GetRoleCredentials takes. The user must exist and be enabled.
func (w *World) SignInToPortal(userID string) (*PortalToken, error) {
	if w.SSO == nil {
		return nil, fmt.Errorf("IAM Identity Center is not enabled")
	}
	u := w.SSO.SSOUser(userID)
	if u == nil {
		return nil, fmt.Errorf("no Identity Center user %s", userID)
	}
	if !u.Active {
		return nil, fmt.Errorf("Identity Center user %s (%s) is disabled and cannot sign in", u.UserName, userID)
	}
	if w.PortalTokens == nil {
		w.PortalTokens = map[string]*PortalToken{}
	}
	t := &PortalToken{Token: "aoa" + w.hexID(60), UserID: userID, Expiration: w.Now().Add(PortalSessionDuration)}
	w.PortalTokens[t.Token] = t
	return t, nil
}

// isPortalRequest reports whether r is a call of the access portal API: unsigned, with
// the portal's bearer token header, on one of its paths.
func isPortalRequest(r *http.Request) bool {
	if isSigV4(r) {
		return false
	}
	switch r.URL.Path {
	case "/federation/credentials", "/assignment/accounts", "/assignment/roles", "/logout":
		return true
	}
	return false
}

// portalError is an access portal error: REST-JSON, the code in X-Amzn-Errortype and in
// the body's __type.
type portalError struct {
	status  int
	code    string
	message string
}

func portalUnauthorized() *portalError {
	return &portalError{http.StatusUnauthorized, "UnauthorizedException", "Session token not found or invalid"}
}

func portalInvalid(msg string) *portalError {
	return &portalError{http.StatusBadRequest, "InvalidRequestException", msg}
}

// portalForbidden is the answer for a role the user may not use. The SDK models no such
// error; "ForbiddenException: No access" is what AWS answers (the AWS CLI reports it as
// "An error occurred (ForbiddenException) when calling the GetRoleCredentials
// operation: No access").
func portalForbidden() *portalError {
	return &portalError{http.StatusForbidden, "ForbiddenException", "No access"}
}

func (s *Sim) servePortal(rw http.ResponseWriter, r *http.Request) {
	op := map[string]string{"/federation/credentials": "GetRoleCredentials", "/assignment/accounts": "ListAccounts",
		"/assignment/roles": "ListAccountRoles", "/logout": "Logout"}[r.URL.Path]
	requestID := s.newRequestID()
	rw.Header().Set("X-Amzn-Requestid", requestID)
	writeErr := func(e *portalError) {
		rw.Header().Set("Content-Type", "application/json")
		rw.Header().Set("X-Amzn-Errortype", e.code)
		rw.WriteHeader(e.status)
		_ = json.NewEncoder(rw).Encode(map[string]string{"__type": e.code, "message": e.message})
	}
	want := http.MethodGet
	if op == "Logout" {
		want = http.MethodPost
	}
	if r.Method != want {
		writeErr(&portalError{http.StatusMethodNotAllowed, "InvalidRequestException", op + " takes " + want})
		return
	}
	s.counters.count("awsssoportal", op)
	s.sleepLatency()
	if f := s.fault(); f == FaultDrop {
		s.counters.fault("awsssoportal", op)
		dropConnection(rw)
		return
	} else if f != "" {
		s.counters.fault("awsssoportal", op)
		writeErr(&portalError{http.StatusInternalServerError, "InternalServerException", "An internal error occurred"})
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.world
	w.advance()
	tok := w.PortalTokens[r.Header.Get("x-amz-sso_bearer_token")]
	if tok == nil || !w.Now().Before(tok.Expiration) || w.SSO == nil {
		writeErr(portalUnauthorized())
		return
	}
	u := w.SSO.SSOUser(tok.UserID)
	if u == nil || !u.Active {
		writeErr(portalUnauthorized())
		return
	}
	q := r.URL.Query()
	var (
		out  any
		perr *portalError
	)
	switch op {
	case "Logout":
		delete(w.PortalTokens, tok.Token)
	case "ListAccounts":
		out, perr = portalListAccounts(w, u, q.Get("next_token"), q.Get("max_result"))
	case "ListAccountRoles":
		out, perr = portalListAccountRoles(w, u, q.Get("account_id"), q.Get("next_token"), q.Get("max_result"))
	case "GetRoleCredentials":
		out, perr = s.portalGetRoleCredentials(w, u, q.Get("account_id"), q.Get("role_name"))
	}
	if perr != nil {
		writeErr(perr)
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	if out == nil {
		out = struct{}{}
	}
	_ = json.NewEncoder(rw).Encode(out)
}

// portalRoles returns the permission sets the user holds in each account, directly or
// through a group, by account id, sorted by name.
func portalRoles(w *World, u *SSOUser) map[string][]*PermissionSet {
	groups := map[string]bool{}
	for _, m := range w.SSO.Memberships {
		if m.UserID == u.ID {
			groups[m.GroupID] = true
		}
	}
	seen := map[string]bool{}
	out := map[string][]*PermissionSet{}
	for _, a := range w.SSO.Assignments {
		if !(a.PrincipalType == "USER" && a.PrincipalID == u.ID) && !(a.PrincipalType == "GROUP" && groups[a.PrincipalID]) {
			continue
		}
		ps := w.SSO.PermissionSet(a.PermissionSetARN)
		if ps == nil || seen[a.AccountID+"|"+ps.ARN] {
			continue
		}
		seen[a.AccountID+"|"+ps.ARN] = true
		out[a.AccountID] = append(out[a.AccountID], ps)
	}
	for _, list := range out {
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	}
	return out
}

// portalPage pages a portal list: the token is the offset, max_result at most 1000 (the
// portal's limit) and 1000 by default.
func portalPage[T any](items []T, token, maxResult string) ([]T, string, *portalError) {
	n := 1000
	if maxResult != "" {
		v, err := strconv.Atoi(maxResult)
		if err != nil || v < 1 || v > 1000 {
			return nil, "", portalInvalid("max_result must be between 1 and 1000")
		}
		n = v
	}
	start := 0
	if token != "" {
		v, err := strconv.Atoi(token)
		if err != nil || v < 0 || v > len(items) {
			return nil, "", portalInvalid("invalid next_token")
		}
		start = v
	}
	end := min(start+n, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

type portalAccountJSON struct {
	AccountID    string `json:"accountId"`
	AccountName  string `json:"accountName,omitempty"`
	EmailAddress string `json:"emailAddress,omitempty"`
}

func portalListAccounts(w *World, u *SSOUser, token, maxResult string) (any, *portalError) {
	roles := portalRoles(w, u)
	items := []portalAccountJSON{}
	for _, id := range sortedKeys(roles) {
		a := portalAccountJSON{AccountID: id}
		if acct := w.Accounts[id]; acct != nil {
			a.AccountName, a.EmailAddress = acct.Name, acct.Email
		}
		items = append(items, a)
	}
	pg, next, err := portalPage(items, token, maxResult)
	if err != nil {
		return nil, err
	}
	return struct {
		AccountList []portalAccountJSON `json:"accountList"`
		NextToken   string              `json:"nextToken,omitempty"`
	}{pg, next}, nil
}

type portalRoleJSON struct {
	RoleName  string `json:"roleName"`
	AccountID string `json:"accountId"`
}

func portalListAccountRoles(w *World, u *SSOUser, accountID, token, maxResult string) (any, *portalError) {
	if accountID == "" {
		return nil, portalInvalid("account_id is required")
	}
	items := []portalRoleJSON{}
	for _, ps := range portalRoles(w, u)[accountID] {
		items = append(items, portalRoleJSON{RoleName: ps.Name, AccountID: accountID})
	}
	pg, next, err := portalPage(items, token, maxResult)
	if err != nil {
		return nil, err
	}
	return struct {
		RoleList  []portalRoleJSON `json:"roleList"`
		NextToken string           `json:"nextToken,omitempty"`
	}{pg, next}, nil
}

type portalRoleCredentialsJSON struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
	// Expiration is in milliseconds since the epoch, as the portal API sends it.
	Expiration int64 `json:"expiration"`
}

// portalGetRoleCredentials issues a session of the permission set's role in the account
// to a user who holds the permission set there (directly or through a group) now.
func (s *Sim) portalGetRoleCredentials(w *World, u *SSOUser, accountID, roleName string) (any, *portalError) {
	if accountID == "" || roleName == "" {
		return nil, portalInvalid("role_name and account_id are required")
	}
	var ps *PermissionSet
	for _, held := range portalRoles(w, u)[accountID] {
		if held.Name == roleName {
			ps = held
		}
	}
	if ps == nil {
		return nil, portalForbidden()
	}
	a := w.Accounts[accountID]
	if a == nil || a.Status != "ACTIVE" {
		return nil, portalForbidden()
	}
	role := a.Roles[ReservedSSORoleName(ps.Name, ps.ARN)]
	if role == nil {
		// Assigned, but the permission set's role is not (or no longer) in the account.
		return nil, portalForbidden()
	}
	issued := w.now().UTC().Truncate(time.Millisecond)
	// The permission set's session duration, whatever Options.SessionDuration says (that
	// option is for the credentials AssumeRole issues).
	lifetime := time.Duration(isoDurationSeconds(ps.SessionDuration)) * time.Second
	sess := &Session{
		AccessKeyID:         w.uniqueID("ASIA"),
		SecretAccessKey:     w.hexID(40),
		SessionToken:        "IQoJb3JpZ2luX2VjE" + w.hexID(120),
		AccountID:           accountID,
		RoleName:            role.Name,
		SessionName:         u.UserName,
		Expiration:          w.Now().Add(lifetime),
		IssuedAt:            issued,
		IdentityStoreUserID: u.ID,
		PermissionSetARN:    ps.ARN,
	}
	w.Sessions[sess.AccessKeyID] = sess
	role.LastUsedDate, role.LastUsedRegion = w.Now(), w.SSO.Region
	// As for AssumeRole, the expiration is reported on the wall clock (see stsAssumeRole).
	exp := time.Now().UTC().Add(sess.Expiration.Sub(w.Now()) + s.opts.ClockSkew)
	return struct {
		RoleCredentials portalRoleCredentialsJSON `json:"roleCredentials"`
	}{portalRoleCredentialsJSON{AccessKeyID: sess.AccessKeyID, SecretAccessKey: sess.SecretAccessKey,
		SessionToken: sess.SessionToken, Expiration: exp.UnixMilli()}}, nil
}

// PortalSessions returns the role sessions the access portal issued to the user that
// have not expired, oldest first.
func (w *World) PortalSessions(userID string) []*Session {
	var out []*Session
	now := w.Now()
	for _, sess := range w.Sessions {
		if sess.IdentityStoreUserID == userID && now.Before(sess.Expiration) {
			out = append(out, sess)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].IssuedAt.Equal(out[j].IssuedAt) {
			return out[i].IssuedAt.Before(out[j].IssuedAt)
		}
		return strings.Compare(out[i].AccessKeyID, out[j].AccessKeyID) < 0
	})
	return out
}
