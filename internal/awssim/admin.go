package awssim

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// The admin endpoint, under /_sim/, is not AWS: it lets benchmarks and people read the
// counters and the connection details without signing requests.
//
//	GET  /_sim/counters         every operation's calls, throttles and faults (JSON)
//	POST /_sim/counters/reset   zero the counters
//	GET  /_sim/info             the connection details `gatehouse sim` prints
//	POST /_sim/portal/sign-in   sign an Identity Center user in to the AWS access portal:
//	                            {"user_name": "bob"} or {"user_id": "..."} answers
//	                            {"access_token", "user_id", "expires_at"}, the token the
//	                            portal API (portal.go) takes
//
// /_sim/info hands out the operator's secret access key and the SCIM token, and a reset
// changes what a benchmark measures, so every admin request must carry the simulator's
// admin token (Authorization: Bearer TOKEN): the simulator listens on a port that any
// process on the host can reach. The token is random per simulator and printed once, as
// admin_token in the JSON line of `gatehouse sim`.
func (s *Sim) serveAdmin(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(rw)
	enc.SetIndent("", "  ")
	if !s.adminAuthorized(r) {
		rw.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-sim"`)
		rw.WriteHeader(http.StatusUnauthorized)
		_ = enc.Encode(map[string]string{"error": "the simulator's admin endpoints need its admin token: send Authorization: Bearer TOKEN with the admin_token that gatehouse sim printed on start"})
		return
	}
	switch {
	case r.URL.Path == "/_sim/counters" && r.Method == http.MethodGet:
		snap := s.counters.Snapshot()
		_ = enc.Encode(map[string]any{"total": s.counters.Total(), "operations": snap})
	case r.URL.Path == "/_sim/counters/reset" && r.Method == http.MethodPost:
		s.counters.Reset()
		_ = enc.Encode(map[string]any{"reset": true})
	case r.URL.Path == "/_sim/info" && r.Method == http.MethodGet:
		_ = enc.Encode(s.Info())
	case r.URL.Path == "/_sim/portal/sign-in" && r.Method == http.MethodPost:
		s.adminPortalSignIn(rw, r, enc)
	default:
		rw.WriteHeader(http.StatusNotFound)
		_ = enc.Encode(map[string]string{"error": "unknown admin endpoint " + r.Method + " " + r.URL.Path + "; try GET /_sim/counters or GET /_sim/info"})
	}
}

// newAdminToken returns a random admin token (256 bits, hex).
func newAdminToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on the platforms Go supports (it panics itself).
		panic("awssim: no randomness for the admin token: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// AdminToken returns the token the admin endpoints require (Authorization: Bearer).
func (s *Sim) AdminToken() string { return s.adminToken }

// adminAuthorized reports whether the request carries the admin token, compared in
// constant time.
func (s *Sim) adminAuthorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	const scheme = "Bearer "
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return false
	}
	got := strings.TrimSpace(h[len(scheme):])
	return s.adminToken != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.adminToken)) == 1
}

// Info is what a client needs to use the simulator as Gatehouse would.
type Info struct {
	Endpoint             string `json:"endpoint"`
	Region               string `json:"region"`
	AccessKeyID          string `json:"access_key_id"`
	SecretAccessKey      string `json:"secret_access_key"`
	ManagementAccountID  string `json:"management_account_id"`
	RoleARN              string `json:"role_arn,omitempty"`
	ExternalID           string `json:"external_id,omitempty"`
	InstanceARN          string `json:"identity_center_instance_arn,omitempty"`
	IdentityStoreID      string `json:"identity_store_id,omitempty"`
	IdentityCenterRegion string `json:"identity_center_region,omitempty"`
	SCIMEndpoint         string `json:"scim_endpoint,omitempty"`
	SCIMToken            string `json:"scim_token,omitempty"`
	// MemberRoleName is the role the organization's member accounts hold for the
	// connector (the one it assumes by default); empty without member accounts.
	MemberRoleName string `json:"member_role_name,omitempty"`
	// Admin signs as an administrator of the management account, as the customer's own
	// admin would: for scripts and tests that change or check AWS state.
	Admin AdminCredentials `json:"admin"`
	// AdminToken authorizes requests to the admin endpoints under /_sim/.
	AdminToken string `json:"admin_token,omitempty"`
}

// AdminCredentials are an access key of the simulator's administrator.
type AdminCredentials struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
}

// rootKey is an access key of the management account's root user. It lives with the
// Sim, not in the World: the root user is not an IAM user, so it appears in no IAM
// listing, and the key is new on every start, like the admin token.
type rootKey struct{ id, secret string }

// newRootKey returns a random root access key (AKIA and 16 characters, 40-character secret).
func newRootKey() rootKey {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, 16+30)
	if _, err := rand.Read(b); err != nil {
		panic("awssim: no randomness for the admin key: " + err.Error())
	}
	id := make([]byte, 16)
	for i := range id {
		id[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return rootKey{id: "AKIA" + string(id), secret: hex.EncodeToString(b[16:])[:40]}
}

// memberRoleName returns the name of the role that member accounts hold for the
// connector: the first role, in the first ACTIVE member account that has one, whose
// trust policy names the connector role.
func (w *World) memberRoleName() string {
	if w.Connector.RoleARN == "" {
		return ""
	}
	for _, id := range w.AccountIDs() {
		a := w.Accounts[id]
		if id == w.ManagementAccountID || a.Status != "ACTIVE" {
			continue
		}
		for _, name := range sortedKeys(a.Roles) {
			if strings.Contains(a.Roles[name].AssumeRolePolicy, w.Connector.RoleARN) {
				return name
			}
		}
	}
	return ""
}

// Info returns the connection details of a started simulator.
func (s *Sim) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.world
	info := Info{
		Endpoint: s.URL(), Region: w.Region, ManagementAccountID: w.ManagementAccountID,
		AccessKeyID: w.Connector.AccessKeyID, SecretAccessKey: w.Connector.SecretAccessKey,
		RoleARN: w.Connector.RoleARN, ExternalID: w.Connector.ExternalID,
		MemberRoleName: w.memberRoleName(),
		Admin:          AdminCredentials{AccessKeyID: s.adminKey.id, SecretAccessKey: s.adminKey.secret},
		AdminToken:     s.adminToken,
	}
	if w.SSO != nil {
		info.InstanceARN, info.IdentityStoreID, info.IdentityCenterRegion = w.SSO.ARN, w.SSO.IdentityStoreID, w.SSO.Region
		if w.Connector.SCIMToken != "" {
			info.SCIMEndpoint, info.SCIMToken = s.URL()+"/scim/v2/", w.Connector.SCIMToken
		}
	}
	return info
}

// adminPortalSignIn signs a user in to the access portal by user name or id.
func (s *Sim) adminPortalSignIn(rw http.ResponseWriter, r *http.Request, enc *json.Encoder) {
	var in struct {
		UserName string `json:"user_name"`
		UserID   string `json:"user_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || (in.UserName == "") == (in.UserID == "") {
		rw.WriteHeader(http.StatusBadRequest)
		_ = enc.Encode(map[string]string{"error": `send a JSON body with exactly one of "user_name" and "user_id" of an Identity Center user`})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.world
	w.advance()
	id := in.UserID
	if in.UserName != "" && w.SSO != nil {
		for _, u := range w.SSO.Users {
			if u.UserName == in.UserName {
				id = u.ID
			}
		}
		if id == "" {
			rw.WriteHeader(http.StatusNotFound)
			_ = enc.Encode(map[string]string{"error": "no Identity Center user named " + in.UserName})
			return
		}
	}
	tok, err := w.SignInToPortal(id)
	if err != nil {
		rw.WriteHeader(http.StatusNotFound)
		_ = enc.Encode(map[string]string{"error": err.Error()})
		return
	}
	_ = enc.Encode(map[string]string{"access_token": tok.Token, "user_id": tok.UserID, "expires_at": tok.Expiration.UTC().Format(time.RFC3339)})
}
