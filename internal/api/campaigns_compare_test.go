package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Owner tasks and campaign history: revoking access Gatehouse cannot change (a policy
// attached to an IAM group) opens a task for its owner, which a person who is not its owner
// may not mark done and an admin may (the item stays task_open until a sync shows the
// change); the next campaign of the same scope compares with this one: what was kept, what
// was revoked and is still there, nothing new.
func TestCampaignAPICompareAndTasks(t *testing.T) {
	s := newJITServer(t, store.SQLite, true)
	camp, all, _, _, bobs := startReview(t, s)
	first := strings.TrimPrefix(camp, "/api/v1/campaigns/")
	item := camp + "/items/"

	var policy apiItem
	for _, it := range all {
		if it.Entitlement.ID != "" && strings.HasPrefix(it.Plan, "Gatehouse cannot make this change; the owner must: Detach the policy") && contains(it.Reviewers, "dave@example.com") {
			policy = it
			break
		}
	}
	if policy.ID == "" {
		t.Fatalf("no item of a policy attached to an IAM group or user that dave reviews among %d items", len(all))
	}
	var task apiItem
	code, raw := s.call("dave", "POST", item+policy.ID+"/decision", `{"decision": "revoke", "reason": "nobody deploys from here any more"}`, &task)
	if code != 200 || task.State != "task_open" || task.Remediation == nil || task.Remediation.Action != "owner_task" || task.Remediation.State != "task_open" ||
		!strings.Contains(task.Remediation.Description, "Detach the policy") {
		t.Fatalf("revoke of a policy attachment: %d %s", code, raw)
	}
	if d := s.problem("bob", "POST", item+policy.ID+"/task_done", `{"note": "done it"}`, 403); !strings.HasPrefix(d, "only the task's owner (") || !strings.HasSuffix(d, ") or an admin may mark it done") {
		t.Errorf("task_done by bob: %q", d)
	}
	var done apiItem
	if code, raw := s.call("alice", "POST", item+policy.ID+"/task_done", `{"note": "detached in the console"}`, &done); code != 200 || done.State != "task_open" ||
		done.Remediation == nil || done.Remediation.State != "done" {
		t.Errorf("task_done by an admin: %d %s", code, raw)
	}
	if d := s.problem("alice", "POST", item+bobs[0].ID+"/task_done", ``, 409); !strings.Contains(d, "only an open owner task can be marked done") {
		t.Errorf("task_done of a pending item: %q", d)
	}
	var kept apiItem
	if code, raw := s.call("dave", "POST", item+bobs[0].ID+"/decision", `{"decision": "keep", "reason": "on the payments team"}`, &kept); code != 200 {
		t.Fatalf("keep: %d %s", code, raw)
	}
	// The first campaign has nothing before it.
	var cmp struct {
		Previous string    `json:"previous"`
		New      []apiItem `json:"new"`
		Kept     []apiItem `json:"kept"`
		Returned []apiItem `json:"returned"`
	}
	if code, raw := s.call("carol", "GET", camp+"/compare", "", &cmp); code != 200 || cmp.Previous != "" || !strings.Contains(raw, `"new":[]`) || !strings.Contains(raw, `"kept":[]`) {
		t.Errorf("compare the first campaign: %d %s", code, raw)
	}

	// The next campaign of the same scope.
	due := time.Now().UTC().Add(30 * 24 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
	var next apiCampaign
	if code, raw := s.call("carol", "POST", "/api/v1/campaigns", `{"name": "Next quarter: prod", "scope": {"accounts": ["`+s.prod+`"]},
		"reviewers": {"people": ["dave@example.com"]}, "due": "`+due+`"}`, &next); code != 201 {
		t.Fatalf("create the next campaign: %d %s", code, raw)
	}
	var started struct {
		Previous string `json:"previous"`
	}
	if code, raw := s.call("carol", "POST", "/api/v1/campaigns/"+next.ID+"/start", "", &started); code != 200 || started.Previous != first {
		t.Fatalf("start the next campaign (previous %s): %d %s", first, code, raw)
	}
	code, raw = s.call("carol", "GET", "/api/v1/campaigns/"+next.ID+"/compare", "", &cmp)
	if code != 200 || cmp.Previous != first || len(cmp.New) != 0 || len(cmp.Kept) != 1 || len(cmp.Returned) != 1 {
		t.Fatalf("compare: %d %s", code, raw)
	}
	if k := cmp.Kept[0]; k.GrantID != bobs[0].GrantID || k.Via != bobs[0].Via || k.CampaignID != next.ID || k.State != "pending" {
		t.Errorf("kept last time: %+v, want the grant %s via %s", k, bobs[0].GrantID, bobs[0].Via)
	}
	if r := cmp.Returned[0]; r.GrantID != policy.GrantID || r.CampaignID != next.ID {
		t.Errorf("revoked last time and still here: %+v, want the grant %s", r, policy.GrantID)
	}
	if d := s.problem("dave", "GET", "/api/v1/campaigns/"+next.ID+"/compare", "", 403); d != "this needs the auditor role" {
		t.Errorf("compare as a reviewer: %q", d)
	}
}
