package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/auth"
)

// Every /api/v1 route is documented with the access it really requires, and nothing
// undocumented or stale is in the document.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	r := auth.NewRouter()
	Register(r, &app.App{})
	wildcard := regexp.MustCompile(`\{([a-z_]+)\.\.\.\}`)
	registered := map[string]auth.Access{}
	for _, rt := range r.Routes() {
		if !strings.HasPrefix(rt.Pattern, "/api/v1/") || rt.Pattern == "/api/v1/openapi.json" {
			continue
		}
		registered[rt.Method+" "+wildcard.ReplaceAllString(rt.Pattern, "{$1}")] = rt.Access
	}
	documented := map[string]auth.Access{}
	for _, op := range operations {
		key := op.Method + " " + op.Path
		if _, dup := documented[key]; dup {
			t.Errorf("%s is documented twice", key)
		}
		documented[key] = op.Access
	}
	var missing, stale []string
	for k, a := range registered {
		d, ok := documented[k]
		switch {
		case !ok:
			missing = append(missing, k)
		case d != a:
			t.Errorf("%s: documented as %s, registered as %s", k, d, a)
		}
	}
	for k := range documented {
		if _, ok := registered[k]; !ok {
			stale = append(stale, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 || len(stale) > 0 {
		t.Fatalf("OpenAPI document out of step with the routes:\nnot documented: %v\ndocumented but not registered: %v", missing, stale)
	}
}

// The document is served without sign-in, is OpenAPI 3, every $ref resolves, and the
// schemas carry the fields api-conventions.md fixes.
func TestOpenAPIDocumentIsServedAndConsistent(t *testing.T) {
	r := auth.NewRouter()
	Register(r, &app.App{})
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.3" || len(doc.Paths) == 0 {
		t.Fatalf("openapi %q with %d paths", doc.OpenAPI, len(doc.Paths))
	}
	for _, ref := range regexp.MustCompile(`"\$ref":\s*"#/components/schemas/([A-Za-z]+)"`).FindAllStringSubmatch(rec.Body.String(), -1) {
		if _, ok := doc.Components.Schemas[ref[1]]; !ok {
			t.Errorf("$ref to missing schema %s", ref[1])
		}
	}
	for schema, fields := range map[string][]string{
		"Me":      {"email", "name", "roles"},
		"Sync":    {"id", "state", "trigger", "started_at", "finished_at", "api_calls", "skipped_accounts"},
		"Change":  {"sync_id", "at", "kind", "grant_id", "entitlement_id", "principal_type", "principal_id", "account_id", "person"},
		"Access":  {"grant_id", "entitlement_id", "account_id", "via", "since"},
		"Problem": {"type", "title", "status", "detail"},
		// Just-in-time access (issue 11's stable contract).
		"CatalogItem": {"id", "display_name", "application", "account_id", "permission_set_arn", "default_duration", "max_duration",
			"resource_type", "reason_required", "rule", "why"},
		"CatalogEntry": {"id", "requestable", "not_requestable_why", "permission_set"},
		"Request": {"id", "state", "requester", "entitlement_id", "display_name", "application", "account_id", "reason", "duration",
			"starts_at", "ends_at", "rule", "policy", "steps", "transitions", "lease", "error", "break_glass", "created_at"},
		"RequestTransition": {"from", "to", "by", "at", "reason"},
		"Lease":             {"id", "request_id", "requester", "entitlement_id", "state", "starts_at", "ends_at", "ended_at", "end_reason", "drift"},
		"RulesRejected":     {"type", "title", "status", "detail", "problems"},
		"RulesProblem":      {"line", "column", "field", "message"},
		// Access reviews (issue 12's stable contract).
		"Campaign": {"id", "name", "description", "state", "scope", "reviewers", "due", "undecided", "created_by", "created_at", "started_at",
			"closed_at", "previous", "progress", "by_reviewer"},
		"ReviewScope":     {"accounts", "permission_sets", "applications", "admin_only"},
		"ReviewReviewers": {"people", "manager", "owner"},
		"ReviewItem": {"id", "campaign_id", "grant_id", "identity", "principal", "entitlement", "account_id", "account_name", "via", "via_name",
			"since", "admin_level", "context", "reviewer", "reviewers", "decision", "reason", "decided_by", "decided_at", "state", "plan",
			"remediation", "access_gone_at", "events"},
		"ReviewEntitlement":  {"id", "name", "resource_type", "resource_id", "resource_name"},
		"BulkDecisionResult": {"decided", "skipped"},
		"DecisionBody":       {"decision", "reason"},
	} {
		s, ok := doc.Components.Schemas[schema]
		if !ok {
			t.Errorf("no schema %s", schema)
			continue
		}
		for _, f := range fields {
			if _, ok := s.Properties[f]; !ok {
				t.Errorf("schema %s lacks %s", schema, f)
			}
		}
	}
	// The rules document is YAML both ways.
	if _, ok := doc.Paths["/api/v1/rules"]["put"]["requestBody"].(map[string]any)["content"].(map[string]any)["application/yaml"]; !ok {
		t.Errorf("PUT /api/v1/rules does not take application/yaml: %v", doc.Paths["/api/v1/rules"]["put"])
	}
	// The export is a file in one of three formats, with its SHA-256 in a header.
	export := doc.Paths["/api/v1/campaigns/{id}/export"]["get"]["responses"].(map[string]any)["200"].(map[string]any)
	for _, m := range []string{"text/csv", "application/json", "text/html"} {
		if _, ok := export["content"].(map[string]any)[m]; !ok {
			t.Errorf("the export does not document %s: %v", m, export)
		}
	}
	if _, ok := export["headers"].(map[string]any)["X-Content-SHA256"]; !ok {
		t.Errorf("the export does not document X-Content-SHA256: %v", export)
	}
	get := doc.Paths["/api/v1/people/{email}/access"]["get"]
	if get == nil || get["responses"].(map[string]any)["403"] == nil {
		t.Errorf("person access documents no 403: %v", get)
	}
}
