package main

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/awssim"
)

// syncedFile syncs the fixture's organization with Identity Center and returns the .c1z.
func syncedFile(t *testing.T, fixture string) string {
	t.Helper()
	_, info := fixtureSim(t, fixture, awssim.Options{})
	file := filepath.Join(t.TempDir(), "org.c1z")
	if _, stderr, err := runSync(t, info, file, "--orgs", "--identity-center"); err != nil {
		t.Fatalf("sync: %v\n%s", err, stderr)
	}
	return file
}

func inspect(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, err := runGatehouse(t, append([]string{"inspect"}, args...)...)
	if err != nil {
		t.Fatalf("gatehouse inspect %v: %v\n%s", args, err, stderr)
	}
	return stdout
}

// gatehouse inspect access answers who can reach which account, with which permission
// set, and through what; --person and --account narrow it; an empty answer says so.
func TestInspectAccess(t *testing.T) {
	file := syncedFile(t, "org-identity-center.yaml")
	got := inspect(t, "-f", file, "access")
	want := `ACCOUNT                    PERMISSION SET       WHO                               THROUGH
management (111111111111)  AdministratorAccess  group Admins                      direct assignment
management (111111111111)  AdministratorAccess  Alice Nguyen <alice@example.com>  group Admins
prod (333333333333)        AdministratorAccess  group Admins                      direct assignment
prod (333333333333)        AdministratorAccess  Alice Nguyen <alice@example.com>  group Admins
prod (333333333333)        Developer            Bob Martinez <bob@example.com>    direct assignment
prod (333333333333)        ReadOnly             group Developers                  direct assignment
prod (333333333333)        ReadOnly             Bob Martinez <bob@example.com>    group Developers
prod (333333333333)        ReadOnly             Erin Schulz <erin@example.com>    group Developers
staging (444444444444)     Developer            group Developers                  direct assignment
staging (444444444444)     Developer            Bob Martinez <bob@example.com>    group Developers
staging (444444444444)     Developer            Erin Schulz <erin@example.com>    group Developers
`
	if got != want {
		t.Errorf("inspect access printed:\n%s\nwant:\n%s", got, want)
	}

	got = inspect(t, "-f", file, "access", "--person", "bob@example.com")
	want = `ACCOUNT                 PERMISSION SET  WHO                             THROUGH
prod (333333333333)     Developer       Bob Martinez <bob@example.com>  direct assignment
prod (333333333333)     ReadOnly        Bob Martinez <bob@example.com>  group Developers
staging (444444444444)  Developer       Bob Martinez <bob@example.com>  group Developers
`
	if got != want {
		t.Errorf("inspect access --person bob@example.com printed:\n%s\nwant:\n%s", got, want)
	}
	// A user name works as well as an email, an account name as well as its id.
	if again := inspect(t, "-f", file, "access", "--person", "bob", "--account", "staging"); again != `ACCOUNT                 PERMISSION SET  WHO                             THROUGH
staging (444444444444)  Developer       Bob Martinez <bob@example.com>  group Developers
` {
		t.Errorf("inspect access --person bob --account staging printed:\n%s", again)
	}
	if got, want := inspect(t, "-f", file, "access", "--person", "alice@example.com", "--account", "444444444444"),
		"no Identity Center account access for alice@example.com in account 444444444444 in "+file+"\n"; got != want {
		t.Errorf("empty access printed %q, want %q", got, want)
	}

	// A person or account the file does not have is an error, not an empty answer.
	_, stderr, err := runGatehouse(t, "inspect", "-f", file, "access", "--person", "mallory@example.com")
	if want := "gatehouse: no Identity Center user \"mallory@example.com\" in " + file + ": give an email, user name, display name or user id\n"; err == nil || stderr != want {
		t.Errorf("unknown person: err=%v stderr=%q, want %q", err, stderr, want)
	}
}

// An empty listing says there is nothing, by type; every table fits 120 columns; grants
// are shown with their entitlements' names.
func TestInspectTablesForPeople(t *testing.T) {
	file := syncedFile(t, "org-identity-center.yaml")
	if got, want := inspect(t, "-f", file, "grants", "--type", "iam_role"), "no grants of type iam_role in "+file+"\n"; got != want {
		t.Errorf("grants of a type without grants printed %q, want %q", got, want)
	}
	if got := inspect(t, "-f", file, "grants", "--type", "iam_role", "--json"); got != "" {
		t.Errorf("--json of nothing printed %q, want nothing", got)
	}

	for _, kind := range []string{"access", "resources", "entitlements", "grants"} {
		out := inspect(t, "-f", file, kind)
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if n := utf8.RuneCountInString(line); n > 120 {
				t.Errorf("inspect %s: a line of %d columns:\n%s", kind, n, line)
			}
		}
	}

	grants := inspect(t, "-f", file, "grants", "--type", "account")
	for _, want := range []string{
		"ENTITLEMENT                        PRINCIPAL              THROUGH                   GRANT ID\n",
		"\nReadOnly on prod                   sso_user Erin Schulz   via sso_group Developers  account:333…",
		"\n(long values are shortened with …; --wide prints them whole)\n",
	} {
		if !strings.Contains(grants, want) {
			t.Errorf("inspect grants lacks %q:\n%s", want, grants)
		}
	}
	// --wide prints the ids whole, for revoke --grant.
	wide := inspect(t, "-f", file, "grants", "--type", "iam_group", "--wide")
	if want := "iam_group:arn:aws:iam::333333333333:group/deployers:member:iam_user:arn:aws:iam::333333333333:user/service/deploy-bot\n"; !strings.Contains(wide, want) {
		t.Errorf("inspect grants --wide lacks the whole grant id %q:\n%s", want, wide)
	}
}
