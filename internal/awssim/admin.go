package awssim

import (
	"encoding/json"
	"net/http"
)

// The admin endpoint, under /_sim/, is not AWS: it lets benchmarks and people read the
// counters and the connection details without signing requests.
//
//	GET  /_sim/counters         every operation's calls, throttles and faults (JSON)
//	POST /_sim/counters/reset   zero the counters
//	GET  /_sim/info             the connection details `gatehouse sim` prints
func (s *Sim) serveAdmin(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(rw)
	enc.SetIndent("", "  ")
	switch {
	case r.URL.Path == "/_sim/counters" && r.Method == http.MethodGet:
		snap := s.counters.Snapshot()
		_ = enc.Encode(map[string]any{"total": s.counters.Total(), "operations": snap})
	case r.URL.Path == "/_sim/counters/reset" && r.Method == http.MethodPost:
		s.counters.Reset()
		_ = enc.Encode(map[string]any{"reset": true})
	case r.URL.Path == "/_sim/info" && r.Method == http.MethodGet:
		_ = enc.Encode(s.Info())
	default:
		rw.WriteHeader(http.StatusNotFound)
		_ = enc.Encode(map[string]string{"error": "unknown admin endpoint " + r.Method + " " + r.URL.Path + "; try GET /_sim/counters or GET /_sim/info"})
	}
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
	}
	if w.SSO != nil {
		info.InstanceARN, info.IdentityStoreID, info.IdentityCenterRegion = w.SSO.ARN, w.SSO.IdentityStoreID, w.SSO.Region
		if w.Connector.SCIMToken != "" {
			info.SCIMEndpoint, info.SCIMToken = s.URL()+"/scim/v2/", w.Connector.SCIMToken
		}
	}
	return info
}
