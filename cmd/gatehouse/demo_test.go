package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
)

// TestDemoRunsTheWholeProduct runs `gatehouse demo` as a user would: it prints the
// simulator's line and, once the first sync is done, the URL and the demo people; signing in
// as the demo admin through the demo provider's page gives a session whose API shows the
// roles and the first sync (partial, with the two accounts the demo organization keeps
// from Gatehouse, each with its reason); Ctrl-C stops everything and exits 0.
func TestDemoRunsTheWholeProduct(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "demo-data")
	cmd := exec.Command(gatehouseBin, "demo", "--listen", "127.0.0.1:0", "--data-dir", dataDir)
	cmd.Env = noAWSEnv(t)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	lines := make(chan string, 2)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	next := func(what string) string {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("gatehouse demo exited before printing %s; stderr:\n%s", what, stderr.String())
			}
			return l
		case <-time.After(3 * time.Minute):
			t.Fatalf("gatehouse demo printed no %s within 3 minutes; stderr:\n%s", what, stderr.String())
		}
		return ""
	}

	var info awssim.Info
	if err := json.Unmarshal([]byte(next("simulator line")), &info); err != nil || info.Endpoint == "" || info.Admin.AccessKeyID == "" || info.MemberRoleName == "" {
		t.Fatalf("simulator line: %+v (%v)", info, err)
	}
	var demo struct {
		URL    string `json:"url"`
		People []struct {
			Email string   `json:"email"`
			Name  string   `json:"name"`
			Roles []string `json:"roles"`
		} `json:"people"`
		DataDir           string `json:"data_dir"`
		StoryRequest      string `json:"story_request"`
		SampleApplication string `json:"sample_application"`
		SampleDataSource  string `json:"sample_datasource"`
	}
	if err := json.Unmarshal([]byte(next("URL line")), &demo); err != nil || !strings.HasPrefix(demo.URL, "http://127.0.0.1:") || demo.DataDir != dataDir || !strings.HasPrefix(demo.StoryRequest, "req_") ||
		!strings.HasPrefix(demo.SampleApplication, "app_") || !strings.HasPrefix(demo.SampleDataSource, "ds_") {
		t.Fatalf("URL line: %+v (%v)", demo, err)
	}
	roles := map[string][]string{}
	for _, p := range demo.People {
		roles[p.Email] = p.Roles
	}
	if !slices.Equal(roles["alice@example.com"], []string{"admin"}) || !slices.Equal(roles["carol@example.com"], []string{"auditor"}) ||
		!slices.Equal(roles["dave@example.com"], []string{"approver", "reviewer"}) || len(roles) != 4 {
		t.Fatalf("demo people: %+v", demo.People)
	}
	// stderr is written before the URL line, but reaches the test through another pipe:
	// wait for its last line.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stderr.String(), "Press Ctrl-C to stop.") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	review := "Review: carol@example.com started \"" + demoCampaignName + "\" over prod: "
	if !strings.Contains(stderr.String(), review) || !strings.Contains(stderr.String(), "waiting for dave@example.com") {
		t.Errorf("stderr lacks the review's line %q:\n%s", review, stderr.String())
	}
	story := "Story: bob@example.com requested Billing on management (" + info.ManagementAccountID + ") for 2m0s · approved by dave@example.com · provisioned in AWS in "
	for _, want := range []string{"sign in (the demo sign-in page asks no password) as:", "alice@example.com", "Press Ctrl-C to stop.", story, "/requests/" + demo.StoryRequest + ")"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}

	c := demoSignIn(t, demo.URL, "alice")
	var me struct {
		Email string   `json:"email"`
		Roles []string `json:"roles"`
	}
	getJSON(t, c, demo.URL+"/api/v1/me", &me)
	if me.Email != "alice@example.com" || !slices.Equal(me.Roles, []string{"admin", "approver", "reviewer"}) {
		// approver: the fallback of the demo policies; reviewer: the fallback of the demo
		// campaign (Dave's own access goes to the admins)
		t.Fatalf("/api/v1/me = %+v", me)
	}
	var syncs struct {
		Items []struct {
			State           string `json:"state"`
			APICalls        int    `json:"api_calls"`
			SkippedAccounts []struct {
				AccountID string `json:"account_id"`
				Reason    string `json:"reason"`
			} `json:"skipped_accounts"`
		} `json:"items"`
	}
	getJSON(t, c, demo.URL+"/api/v1/syncs", &syncs)
	if len(syncs.Items) != 1 || syncs.Items[0].State != "partial" || syncs.Items[0].APICalls == 0 {
		t.Fatalf("syncs: %+v", syncs)
	}
	var skipped []string
	for _, sk := range syncs.Items[0].SkippedAccounts {
		skipped = append(skipped, sk.Reason)
	}
	slices.Sort(skipped)
	if want := []string{"cannot assume role GatehouseMember", "the account is SUSPENDED"}; len(skipped) != 2 || !strings.HasPrefix(skipped[0], want[0]) || skipped[1] != want[1] {
		t.Fatalf("skipped accounts: %q", skipped)
	}

	// The first sync was ingested: Alice reaches prod as an administrator through her
	// Identity Center group, as the demo organization says.
	var access struct {
		Items []struct {
			EntitlementName string `json:"entitlement_name"`
			AccountName     string `json:"account_name"`
			Via             string `json:"via"`
		} `json:"items"`
	}
	getJSON(t, c, demo.URL+"/api/v1/people/alice@example.com/access?page_size=1000", &access)
	found := false
	for _, a := range access.Items {
		if a.EntitlementName == "AdministratorAccess on prod" && a.AccountName == "prod" && a.Via == "Admins" {
			found = true
		}
	}
	if !found {
		t.Fatalf("alice's access lacks AdministratorAccess on prod via Admins: %+v", access.Items)
	}

	demoAssertSampleImport(t, c, demo.URL, demo.SampleApplication, demo.SampleDataSource, stderr.String())

	// Dave approves under the demo's policies and reviews Carol's campaign: /api/v1/me says so.
	daveClient := demoSignIn(t, demo.URL, "dave")
	getJSON(t, daveClient, demo.URL+"/api/v1/me", &me)
	if me.Email != "dave@example.com" || !slices.Equal(me.Roles, []string{"approver", "reviewer"}) {
		t.Fatalf("/api/v1/me of dave = %+v", me)
	}

	// Carol's campaign waits in Dave's inbox: Bob's production access among the items, and
	// not Dave's own (that is Alice's, the fallback).
	inbox := getPage(t, daveClient, demo.URL+"/reviews")
	for _, want := range []string{demoCampaignName, "bob@example.com", "ReadOnly on prod", ">Keep</button>", ">Revoke</button>", `id="nav-reviews"`} {
		if !strings.Contains(inbox, want) {
			t.Fatalf("Dave's inbox lacks %q:\n%s", want, inbox)
		}
	}
	if strings.Contains(inbox, "<strong>dave@example.com</strong>") {
		t.Fatalf("Dave's inbox offers him his own access:\n%s", inbox)
	}
	if !strings.Contains(getPage(t, c, demo.URL+"/reviews"), "<strong>dave@example.com</strong>") {
		t.Fatal("Alice's inbox lacks Dave's own access (she is the campaign's fallback)")
	}

	// The story's request is active: Bob sees it with its lease, and AWS has the assignment.
	var req struct {
		State       string `json:"state"`
		Requester   string `json:"requester"`
		StartsAt    string `json:"starts_at"`
		EndsAt      string `json:"ends_at"`
		Transitions []struct {
			From, To, By string
		} `json:"transitions"`
	}
	getJSON(t, demoSignIn(t, demo.URL, "bob"), demo.URL+"/api/v1/requests/"+demo.StoryRequest, &req)
	starts, err1 := time.Parse(time.RFC3339, req.StartsAt)
	ends, err2 := time.Parse(time.RFC3339, req.EndsAt)
	if req.State != "active" || req.Requester != "bob@example.com" || err1 != nil || err2 != nil || ends.Sub(starts) != 2*time.Minute {
		t.Fatalf("story request: %+v", req)
	}
	var moves []string
	for _, tr := range req.Transitions {
		moves = append(moves, tr.From+">"+tr.To+" by "+tr.By)
	}
	if want := []string{">pending_approval by bob@example.com", "pending_approval>approved by dave@example.com", "approved>provisioning by gatehouse", "provisioning>active by gatehouse"}; !slices.Equal(moves, want) {
		t.Fatalf("story transitions:\n got %q\nwant %q", moves, want)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("gatehouse demo after Ctrl-C: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("gatehouse demo did not stop within 30 s of Ctrl-C:\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dataDir, "gatehouse.db")); err != nil {
		t.Fatalf("--data-dir was not used: %v", err)
	}
}

// demoSignIn signs in to the server at base as the demo person id, through the demo
// provider's sign-in page, as a browser would, and returns the client holding the session.
func demoSignIn(t *testing.T, base, person string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	page := resp.Request.URL
	id := page.Query().Get("authRequestID")
	if resp.StatusCode != 200 || id == "" {
		t.Fatalf("/login led to %s (%d), not the demo sign-in page", page, resp.StatusCode)
	}
	resp, err = c.PostForm(page.Scheme+"://"+page.Host+"/demo-login", url.Values{"id": {id}, "person": {person}})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(resp.Request.URL.String(), base+"/") {
		t.Fatalf("signing in as %s ended at %s (%d)", person, resp.Request.URL, resp.StatusCode)
	}
	return c
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// getPage GETs a page of the web UI with the client's session and returns its HTML.
func getPage(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	return string(body)
}

func getJSON(t *testing.T, c *http.Client, u string, v any) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", u, err, body)
	}
}

// A demo whose address is taken says so and how to choose another, and leaves nothing
// running.
func TestDemoAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	stdout, stderr, err := runGatehouseEnv(t, noAWSEnv(t), "demo", "--listen", ln.Addr().String(), "--data-dir", t.TempDir())
	if err == nil {
		t.Fatal("gatehouse demo started on a taken address")
	}
	if stdout != "" {
		t.Errorf("gatehouse demo started the simulator before finding its address taken:\n%s", stdout)
	}
	want := "address already in use (is another gatehouse demo or server running? choose another address with --listen, e.g. --listen 127.0.0.1:0 for any free port)"
	if !strings.Contains(stderr, want) {
		t.Fatalf("stderr lacks %q:\n%s", want, stderr)
	}
}

// demoAssertSampleImport checks the demo's application imported from its bucket: the data
// source read the Payroll export through its role (Test connection passes), the import is
// applied with exactly the file's users and grants, and the users are the demo people,
// linked by email (Alice's page has her Payroll access next to her AWS access).
func demoAssertSampleImport(t *testing.T, c *http.Client, base, appID, dsID, stderr string) {
	t.Helper()
	var ds struct {
		Name       string `json:"name"`
		Bucket     string `json:"bucket"`
		ExternalID string `json:"external_id"`
		LastState  string `json:"last_state"`
	}
	getJSON(t, c, base+"/api/v1/datasources/"+dsID, &ds)
	if ds.Name != demoDataSourceName || ds.Bucket != demoImportsBucket || ds.ExternalID == "" || ds.LastState != "succeeded" {
		t.Fatalf("the demo's data source: %+v", ds)
	}
	want := "Imports: Payroll read from s3://gatehouse-demo-imports/apps/payroll.csv through the data source \"" + demoDataSourceName + "\" (role "
	if !strings.Contains(stderr, want) || !strings.Contains(stderr, "External ID "+ds.ExternalID+"): applied, 11 grants · "+base+"/applications/"+appID) {
		t.Errorf("stderr lacks the imports line %q:\n%s", want, stderr)
	}
	// The web pages the Imports line points to.
	for page, want := range map[string][]string{
		"/applications":          {"Payroll", appID},
		"/applications/" + appID: {"Payroll", "alice@example.com", demoImportsKey, "applied"},
		"/datasources":           {demoDataSourceName, demoImportsBucket},
		"/datasources/" + dsID:   {demoDataSourceName, ds.ExternalID},
	} {
		html := getPage(t, c, base+page)
		for _, w := range want {
			if !strings.Contains(html, w) {
				t.Errorf("the page %s lacks %q", page, w)
			}
		}
	}
	var app struct {
		Name       string         `json:"name"`
		Kind       string         `json:"kind"`
		Owner      string         `json:"owner"`
		Counts     map[string]int `json:"counts"`
		LastImport struct {
			State      string `json:"state"`
			Errors     []any  `json:"errors"`
			Provenance []struct {
				Key  string `json:"key"`
				Size int    `json:"size"`
			} `json:"provenance"`
		} `json:"last_import"`
	}
	getJSON(t, c, base+"/api/v1/applications/"+appID, &app)
	if app.Name != "Payroll" || app.Kind != "file" || app.Owner != "alice@example.com" || app.LastImport.State != "applied" || len(app.LastImport.Errors) != 0 ||
		len(app.LastImport.Provenance) != 1 || app.LastImport.Provenance[0].Key != demoImportsKey || app.LastImport.Provenance[0].Size != len(demoPayrollCSV) {
		t.Fatalf("the demo's application: %+v", app)
	}
	if fmt.Sprint(app.Counts) != "map[app_resource:5 app_user:8 entitlements:5 grants:11 people:7]" {
		t.Errorf("the demo application's counts: %v", app.Counts)
	}
	var users struct {
		Items []struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		} `json:"items"`
	}
	getJSON(t, c, base+"/api/v1/resources?type=app_user&connection_id="+appID, &users)
	var got []string
	for _, u := range users.Items {
		got = append(got, strings.TrimPrefix(u.ID, appID+":")+" "+u.Email)
	}
	slices.Sort(got)
	if w := []string{"C2001 gina@example.com", "E1001 alice@example.com", "E1002 bob@example.com", "E1003 carol@example.com", "E1004 dave@example.com",
		"E1005 erin@example.com", "E1006 frank@example.com", "S3001 "}; !slices.Equal(got, w) {
		t.Errorf("the demo application's users:\n got %q\nwant %q", got, w)
	}
	var resources struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	getJSON(t, c, base+"/api/v1/resources?type=app_resource&connection_id="+appID, &resources)
	var grants []string
	for _, r := range resources.Items {
		var detail struct {
			Grants []struct {
				ID string `json:"id"`
			} `json:"grants"`
		}
		getJSON(t, c, base+"/api/v1/resources/app_resource/"+r.ID, &detail)
		for _, g := range detail.Grants {
			grants = append(grants, strings.ReplaceAll(g.ID, appID, "APP"))
		}
	}
	slices.Sort(grants)
	g := func(res, ent, user string) string {
		return "app_resource:APP:" + res + ":" + ent + ":app_user:APP:" + user
	}
	wantGrants := []string{g("report:audit trail", "read", "E1003"), g("report:salaries", "read", "E1001"), g("report:salaries", "read", "E1003"),
		g("report:salaries", "read", "E1004"), g("report:salaries", "read", "S3001"), g("role:approvers", "member", "E1004"),
		g("role:employees", "member", "C2001"), g("role:employees", "member", "E1002"), g("role:employees", "member", "E1005"),
		g("role:employees", "member", "E1006"), g("role:payroll admins", "member", "E1001")}
	slices.Sort(wantGrants)
	if !slices.Equal(grants, wantGrants) {
		t.Errorf("the demo application's grants:\n got %q\nwant %q", grants, wantGrants)
	}
	var access struct {
		Items []struct {
			GrantID string `json:"grant_id"`
		} `json:"items"`
	}
	getJSON(t, c, base+"/api/v1/people/alice@example.com/access?page_size=1000", &access)
	var payroll []string
	for _, a := range access.Items {
		if strings.Contains(a.GrantID, appID) {
			payroll = append(payroll, strings.ReplaceAll(a.GrantID, appID, "APP"))
		}
	}
	slices.Sort(payroll)
	if w := []string{g("report:salaries", "read", "E1001"), g("role:payroll admins", "member", "E1001")}; !slices.Equal(payroll, w) {
		t.Errorf("Alice's Payroll access: %q, want %q", payroll, w)
	}
}
