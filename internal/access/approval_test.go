package access

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type fakeResolver struct {
	groups  map[string][]string
	manager map[string]string
	owners  []string
	admins  []string
}

func (f fakeResolver) GroupMembers(_ context.Context, g string) ([]string, error) {
	return f.groups[g], nil
}
func (f fakeResolver) Manager(_ context.Context, p string) (string, error) { return f.manager[p], nil }
func (f fakeResolver) Owners(context.Context) ([]string, error)            { return f.owners, nil }
func (f fakeResolver) Admins(context.Context) ([]string, error)            { return f.admins, nil }

var res = fakeResolver{
	groups:  map[string][]string{"Team": {"Bob@example.com", "carol@example.com", "alice@example.com"}, "Sec": {"dave@example.com"}, "Empty": nil},
	manager: map[string]string{"alice@example.com": "carol@example.com"},
	owners:  []string{"erin@example.com"},
	admins:  []string{"root@example.com"},
}

func TestPlanResolvesAndExcludesRequester(t *testing.T) {
	pol := &Policy{Name: "p", Steps: []Step{
		{Approvers: Approvers{Groups: []string{"Team"}}, Required: 1},
		{Approvers: Approvers{Manager: true, Owners: true}, Required: 1},
		{Approvers: Approvers{Nobody: true}},
	}}
	steps, err := Plan(context.Background(), pol, "alice@example.com", res)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(steps[0].Approvers, []string{"bob@example.com", "carol@example.com"}) ||
		!reflect.DeepEqual(steps[1].Approvers, []string{"carol@example.com", "erin@example.com"}) || !steps[2].Auto {
		t.Fatalf("plan %+v", steps)
	}
	st := Advance(steps, "alice@example.com", false)
	if st.Outcome != Waiting || st.Current != 0 {
		t.Fatalf("advance %+v", st)
	}
	// Without distinct, carol may approve both steps; the nobody step is approved at once.
	if st, err = Record(steps, "alice@example.com", false, "Carol@example.com", true); err != nil || st.Current != 1 {
		t.Fatalf("record 1: %+v %v", st, err)
	}
	if st, err = Record(steps, "alice@example.com", false, "carol@example.com", true); err != nil || st.Outcome != Approved {
		t.Fatalf("record 2: %+v %v", st, err)
	}
}

func TestPlanNeverSkipsAStep(t *testing.T) {
	ctx := context.Background()
	// The only approver is the requester: the fallback decides.
	pol := &Policy{Name: "p", Steps: []Step{{Approvers: Approvers{People: []string{"alice@example.com"}}, Required: 1}},
		Fallback: Approvers{Groups: []string{"Sec"}}}
	steps, err := Plan(ctx, pol, "alice@example.com", res)
	if err != nil || !steps[0].UsesFallback || !reflect.DeepEqual(steps[0].Approvers, []string{"dave@example.com"}) ||
		!strings.Contains(steps[0].Note, "the requester cannot approve their own request") {
		t.Fatalf("fallback: %+v %v", steps, err)
	}
	// No fallback: refused, saying why.
	pol.Fallback = Approvers{}
	_, err = Plan(ctx, pol, "alice@example.com", res)
	var pe *PlanError
	if !errors.As(err, &pe) || pe.Step != 0 || err.Error() != "This request cannot be made: step 1 (alice@example.com) needs 1 approval from alice@example.com, but nobody other than the requester is among them; the requester cannot approve their own request, and policy 'p' has no fallback approvers. Ask an admin to add approvers or a fallback to policy 'p'." {
		t.Fatalf("no fallback: %v", err)
	}
	// Two approvals wanted from a group of one.
	pol = &Policy{Name: "q", Steps: []Step{{Approvers: Approvers{Groups: []string{"Sec"}}, Required: 2}}}
	_, err = Plan(ctx, pol, "alice@example.com", res)
	if err == nil || !strings.Contains(err.Error(), "step 1 (group Sec) needs 2 approvals from group Sec, but only 1 other person is among them") {
		t.Fatalf("too few: %v", err)
	}
}

// distinct: with step 1 and step 2 drawing on the same two people, step 2 may be left with
// one; Plan sees it and Record refuses the same person twice.
func TestDistinct(t *testing.T) {
	ctx := context.Background()
	pol := &Policy{Name: "d", Distinct: true, Steps: []Step{
		{Approvers: Approvers{Groups: []string{"Team"}}, Required: 1},
		{Approvers: Approvers{Groups: []string{"Team"}}, Required: 1},
	}}
	steps, err := Plan(ctx, pol, "alice@example.com", res)
	if err != nil || steps[1].UsesFallback {
		t.Fatalf("plan: %+v %v", steps, err)
	}
	if _, err := Record(steps, "alice@example.com", true, "bob@example.com", true); err != nil {
		t.Fatal(err)
	}
	_, err = Record(steps, "alice@example.com", true, "bob@example.com", true)
	var ne *NotEligibleError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), "you approved an earlier step") {
		t.Fatalf("second approval by bob: %v", err)
	}
	st, err := Record(steps, "alice@example.com", true, "carol@example.com", true)
	if err != nil || st.Outcome != Approved {
		t.Fatalf("carol: %+v %v", st, err)
	}
	// Step 2 names only the person step 1 may take: refused at creation, not stuck later.
	pol.Steps[1].Approvers = Approvers{People: []string{"bob@example.com"}}
	pol.Steps[0].Approvers = Approvers{People: []string{"bob@example.com", "carol@example.com"}}
	if _, err := Plan(ctx, pol, "alice@example.com", res); err == nil || !strings.Contains(err.Error(), "policy 'd' wants a different person for each step and the earlier steps may take them") {
		t.Fatalf("distinct overlap: %v", err)
	}
}

func TestOneDenialEndsIt(t *testing.T) {
	pol := &Policy{Name: "p", Steps: []Step{{Approvers: Approvers{Groups: []string{"Team"}}, Required: 2}}}
	steps, err := Plan(context.Background(), pol, "alice@example.com", res)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := Record(steps, "alice@example.com", false, "bob@example.com", true); st.Outcome != Waiting {
		t.Fatalf("one of two: %+v", st)
	}
	if st, err := Record(steps, "alice@example.com", false, "carol@example.com", false); err != nil || st.Outcome != Denied {
		t.Fatalf("denial: %+v %v", st, err)
	}
	if _, err := Record(steps, "alice@example.com", false, "carol@example.com", true); err == nil {
		t.Fatal("a denied request took another decision")
	}
}
