package awsfetch

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse/gatehouse/internal/awssim"
)

// Assumed-role credentials are renewed before they expire, with a margin for a clock
// that runs behind AWS's: a session that lasts longer than the credentials never meets
// ExpiredToken. The simulator issues 4-second credentials and expires them a second and a
// half before the Expiration it reports (its clock runs ahead); the connector role and a
// member role are used without pause for longer than several lifetimes.
func TestCredentialsRenewedBeforeTheyExpire(t *testing.T) {
	env := startSim(t, fixture(t, orgFixture), awssim.Options{
		Now:             time.Now, // the clock must move for credentials to expire
		SessionDuration: 4 * time.Second,
		ClockSkew:       1500 * time.Millisecond,
	})
	cfg := env.cfg
	cfg.CredentialExpiryWindow = 2500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sess, err := Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	member, err := sess.Account(ctx, "333333333333")
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]*iam.Client{"connector": iam.NewFromConfig(sess.Connector()), "member role": iam.NewFromConfig(member)}

	assumeBefore := simCalls(env.sim)["sts"]
	deadline := time.Now().Add(10 * time.Second)
	calls := 0
	for time.Now().Before(deadline) {
		for who, c := range clients {
			if _, err := c.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{}); err != nil {
				t.Fatalf("%s after %d calls: %v", who, calls, err)
			}
			calls++
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Both roles were renewed several times over the 10 seconds: each lasts 4 s, less the
	// window of 2 to 2.5 s.
	if renewed := simCalls(env.sim)["sts"] - assumeBefore; renewed < 2*3 {
		t.Errorf("%d AssumeRole calls in 10 s of 4-second credentials, want at least 6", renewed)
	}
}
