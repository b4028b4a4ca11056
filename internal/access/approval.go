package access

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// The approval engine: given a policy, the requester and a Resolver, Plan resolves each step's
// approvers once, when the request is made (the request keeps them: a later change of a group
// or of the policy does not change who decides it). Advance then says, as decisions come in,
// which step is current, who may decide it and whether the request is approved, denied or
// waiting. The rules it keeps:
//   - the requester never approves their own request;
//   - with distinct, nobody approves two steps;
//   - a step in which nobody is eligible goes to the policy's fallback approvers, never skipped;
//     with no eligible fallback approver either, the request cannot be made (Plan says why);
//   - one denial ends the request.

// Resolver answers who people are. Every answer is a list of emails.
type Resolver interface {
	// GroupMembers lists the members of an Identity Center group (by name or id).
	GroupMembers(ctx context.Context, group string) ([]string, error)
	// Manager is person's manager ("" when unknown).
	Manager(ctx context.Context, person string) (string, error)
	// Owners lists the owners of what is requested (its account and permission set or group).
	Owners(ctx context.Context) ([]string, error)
	// Admins lists Gatehouse's admins.
	Admins(ctx context.Context) ([]string, error)
}

// StepState is one step of a request's approval as it stands. It is stored with the request.
type StepState struct {
	Name     string `json:"name,omitempty"`
	Required int    `json:"required"`
	// Approvers are the people who may approve the step (the requester is never among them),
	// as resolved when the request was made; when UsesFallback they are the fallback's.
	Approvers []string `json:"approvers"`
	// Fallback are the policy's fallback approvers as resolved then (requester removed).
	Fallback []string `json:"fallback,omitempty"`
	// UsesFallback: the step's own approvers could not decide it (nobody eligible, or the step
	// timed out and escalated), so the fallback approvers decide it. Note says why.
	UsesFallback bool   `json:"uses_fallback,omitempty"`
	Note         string `json:"note,omitempty"`
	// Auto: the policy says nobody approves this step; it is approved at once.
	Auto bool `json:"auto,omitempty"`
	// Approvals are the people who approved the step, in order; Denied says one denied it.
	Approvals []string      `json:"approvals,omitempty"`
	Denied    bool          `json:"denied,omitempty"`
	Timeout   time.Duration `json:"timeout,omitempty"`
	OnTimeout OnTimeout     `json:"on_timeout,omitempty"`
}

// Done says the step has its approvals.
func (s *StepState) Done() bool { return s.Auto || len(s.Approvals) >= s.Required }

// Outcome is where a request's approval stands.
type Outcome string

// The outcomes.
const (
	Waiting  Outcome = "waiting"
	Approved Outcome = "approved"
	Denied   Outcome = "denied"
	// Stuck: the current step cannot get its approvals (nobody eligible is left, fallback
	// included). The request must end; Why says why.
	Stuck Outcome = "stuck"
)

// Status is the answer of Advance.
type Status struct {
	Outcome Outcome
	// Current is the index of the step waiting (Waiting or Stuck), -1 otherwise.
	Current int
	// Eligible are the people who may decide the current step now.
	Eligible []string
	Why      string
}

// PlanError says why a request cannot be made under its policy and what to do.
type PlanError struct {
	Policy string
	Step   int // 0-based
	Detail string
}

func (e *PlanError) Error() string { return e.Detail }

// normEmail lowercases and trims an email.
func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// resolve lists the people a set of approvers names, requester removed, sorted and unique.
// manager says whether a missing manager is worth a note (the caller builds messages).
func resolveApprovers(ctx context.Context, a Approvers, requester string, r Resolver) ([]string, []string, error) {
	set := map[string]bool{}
	var notes []string
	add := func(emails []string) {
		for _, e := range emails {
			if e = normEmail(e); e != "" {
				set[e] = true
			}
		}
	}
	add(a.People)
	for _, g := range a.Groups {
		m, err := r.GroupMembers(ctx, g)
		if err != nil {
			return nil, nil, fmt.Errorf("members of group %s: %w", g, err)
		}
		if len(m) == 0 {
			notes = append(notes, fmt.Sprintf("group %s has no members with an email", g))
		}
		add(m)
	}
	if a.Manager {
		m, err := r.Manager(ctx, requester)
		if err != nil {
			return nil, nil, fmt.Errorf("manager of %s: %w", requester, err)
		}
		if m == "" {
			notes = append(notes, "no manager is known for "+requester)
		}
		add([]string{m})
	}
	if a.Owners {
		o, err := r.Owners(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("owners: %w", err)
		}
		if len(o) == 0 {
			notes = append(notes, "no owner is set for the account or permission set")
		}
		add(o)
	}
	if a.Admins {
		o, err := r.Admins(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("admins: %w", err)
		}
		add(o)
	}
	if set[normEmail(requester)] {
		notes = append(notes, "the requester cannot approve their own request")
	}
	delete(set, normEmail(requester))
	out := make([]string, 0, len(set))
	for e := range set {
		out = append(out, e)
	}
	sort.Strings(out)
	return out, notes, nil
}

// Plan resolves pol's steps for requester. It refuses (a *PlanError) when a step could not be
// approved by anyone: nobody eligible among its approvers and none among the fallback's. With
// distinct, a step whose approvers may all have approved an earlier step counts as having too
// few (it goes to the fallback, or the request is refused) so that a request never gets stuck
// halfway.
func Plan(ctx context.Context, pol *Policy, requester string, r Resolver) ([]StepState, error) {
	if pol == nil {
		return nil, &PlanError{Detail: "no approval policy applies"}
	}
	fallback, fbNotes, err := resolveApprovers(ctx, pol.Fallback, requester, r)
	if err != nil {
		return nil, err
	}
	steps := make([]StepState, len(pol.Steps))
	earlier := map[string]bool{} // everyone who could approve an earlier step
	earlierRequired := 0
	for i, st := range pol.Steps {
		s := StepState{Name: st.Name, Required: max(st.Required, 1), Timeout: st.Timeout, OnTimeout: st.OnTimeout}
		if st.Approvers.Nobody {
			s.Auto, s.Required = true, 0
			steps[i] = s
			continue
		}
		pool, notes, err := resolveApprovers(ctx, st.Approvers, requester, r)
		if err != nil {
			return nil, err
		}
		s.Approvers, s.Fallback = pool, fallback
		short := func(pool []string) bool {
			if !pol.Distinct {
				return len(pool) < s.Required
			}
			overlap := 0
			for _, e := range pool {
				if earlier[e] {
					overlap++
				}
			}
			return len(pool)-min(overlap, earlierRequired) < s.Required
		}
		if short(pool) {
			why := fmt.Sprintf("step %d (%s) needs %d %s from %s", i+1, stepName(st, i), s.Required,
				plural(s.Required, "approval", "approvals"), st.Approvers.Describe())
			var reasons []string
			switch {
			case len(pool) == 0:
				reasons = append(reasons, "nobody other than the requester is among them")
			case len(pool) < s.Required:
				reasons = append(reasons, fmt.Sprintf("only %d other %s among them", len(pool), plural(len(pool), "person is", "people are")))
			default:
				reasons = append(reasons, fmt.Sprintf("policy '%s' wants a different person for each step and the earlier steps may take them", pol.Name))
			}
			reasons = append(reasons, notes...)
			why += ", but " + strings.Join(reasons, "; ")
			if pol.Fallback.empty() {
				return nil, &PlanError{Policy: pol.Name, Step: i, Detail: fmt.Sprintf(
					"This request cannot be made: %s, and policy '%s' has no fallback approvers. Ask an admin to add approvers or a fallback to policy '%s'.",
					why, pol.Name, pol.Name)}
			}
			if short(fallback) {
				fb := "nobody other than the requester is among them"
				if len(fallback) > 0 {
					fb = fmt.Sprintf("%d eligible", len(fallback))
				}
				fb = strings.Join(append([]string{fb}, fbNotes...), "; ")
				return nil, &PlanError{Policy: pol.Name, Step: i, Detail: fmt.Sprintf(
					"This request cannot be made: %s, and the fallback approvers (%s) cannot take it over either (%s). Ask an admin to add approvers to policy '%s'.",
					why, pol.Fallback.Describe(), fb, pol.Name)}
			}
			s.Approvers, s.UsesFallback = fallback, true
			s.Note = why + "; the fallback approvers (" + pol.Fallback.Describe() + ") decide it"
		}
		for _, e := range s.Approvers {
			earlier[e] = true
		}
		earlierRequired += s.Required
		steps[i] = s
	}
	return steps, nil
}

func stepName(st Step, i int) string {
	if st.Name != "" {
		return st.Name
	}
	return st.Approvers.Describe()
}

// used lists who approved steps before i.
func used(steps []StepState, i int) map[string]bool {
	out := map[string]bool{}
	for _, s := range steps[:i] {
		for _, e := range s.Approvals {
			out[e] = true
		}
	}
	return out
}

// eligible lists who may decide step i now.
func eligible(steps []StepState, i int, requester string, distinct bool) []string {
	s := &steps[i]
	taken := map[string]bool{}
	if distinct {
		taken = used(steps, i)
	}
	var out []string
	for _, e := range s.Approvers {
		if e == normEmail(requester) || taken[e] || slices.Contains(s.Approvals, e) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// Advance says where the approval stands. It moves past auto-approved steps and, when the
// current step can no longer get its approvals from its own approvers (with distinct, people
// who approved earlier steps do not count), hands it to the fallback approvers (recording why
// in the step). It changes steps in place; the caller stores them.
func Advance(steps []StepState, requester string, distinct bool) Status {
	for i := range steps {
		s := &steps[i]
		if s.Denied {
			return Status{Outcome: Denied, Current: -1}
		}
		if s.Done() {
			continue
		}
		el := eligible(steps, i, requester, distinct)
		need := s.Required - len(s.Approvals)
		if len(el) < need && !s.UsesFallback && len(s.Fallback) > 0 {
			s.Approvers, s.UsesFallback = s.Fallback, true
			s.Note = fmt.Sprintf("only %d eligible %s left for %d more %s; the fallback approvers decide it",
				len(el), plural(len(el), "approver", "approvers"), need, plural(need, "approval", "approvals"))
			el = eligible(steps, i, requester, distinct)
		}
		if len(el) < need {
			return Status{Outcome: Stuck, Current: i, Eligible: el, Why: fmt.Sprintf(
				"step %d needs %d more %s and only %d eligible %s left (the requester and, where the policy wants a different person per step, earlier approvers cannot approve)",
				i+1, need, plural(need, "approval", "approvals"), len(el), plural(len(el), "approver is", "approvers are"))}
		}
		return Status{Outcome: Waiting, Current: i, Eligible: el}
	}
	return Status{Outcome: Approved, Current: -1}
}

// EscalateStep hands step i to the fallback approvers after its timeout. It reports false when
// there is nobody to escalate to (the caller then expires the request).
func EscalateStep(steps []StepState, i int, why string) bool {
	s := &steps[i]
	if s.UsesFallback || len(s.Fallback) == 0 {
		return false
	}
	s.Approvers, s.UsesFallback, s.Note = s.Fallback, true, why
	return true
}

// NotEligibleError says why someone may not decide a request's current step.
type NotEligibleError struct{ Detail string }

func (e *NotEligibleError) Error() string { return e.Detail }

// Record records who's decision on the current step. It refuses (a *NotEligibleError) the
// requester, someone who approved an earlier step when distinct, someone who already approved
// this step and anyone not among the step's approvers. A denial marks the step denied.
func Record(steps []StepState, requester string, distinct bool, who string, approve bool) (Status, error) {
	st := Advance(steps, requester, distinct)
	if st.Outcome != Waiting {
		return st, &NotEligibleError{Detail: "the request is not waiting for an approval"}
	}
	who = normEmail(who)
	s := &steps[st.Current]
	switch {
	case who == normEmail(requester):
		return st, &NotEligibleError{Detail: "you made this request, and nobody approves their own request; ask one of its approvers"}
	case slices.Contains(s.Approvals, who):
		return st, &NotEligibleError{Detail: fmt.Sprintf("you already approved step %d; it needs another approver", st.Current+1)}
	case distinct && used(steps, st.Current)[who]:
		return st, &NotEligibleError{Detail: fmt.Sprintf("you approved an earlier step, and this request's policy wants a different person for each step; step %d needs someone else", st.Current+1)}
	case !slices.Contains(st.Eligible, who):
		return st, &NotEligibleError{Detail: fmt.Sprintf("you are not among the approvers of step %d (%s)", st.Current+1, describeList(s.Approvers))}
	}
	if !approve {
		s.Denied = true
		return Status{Outcome: Denied, Current: -1}, nil
	}
	s.Approvals = append(s.Approvals, who)
	return Advance(steps, requester, distinct), nil
}

func describeList(emails []string) string {
	const show = 5
	if len(emails) == 0 {
		return "nobody"
	}
	if len(emails) <= show {
		return strings.Join(emails, ", ")
	}
	return strings.Join(emails[:show], ", ") + fmt.Sprintf(" and %d more", len(emails)-show)
}

// AllApprovers lists everyone who could decide any step (fallback included): the people who may
// see the request and who review break-glass access.
func AllApprovers(steps []StepState) []string {
	set := map[string]bool{}
	for _, s := range steps {
		for _, e := range s.Approvers {
			set[e] = true
		}
		for _, e := range s.Fallback {
			set[e] = true
		}
	}
	out := make([]string, 0, len(set))
	for e := range set {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}
