package connector

import (
	"fmt"
	"strconv"
	"time"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/pagination"
	"github.com/conductorone/baton-sdk/pkg/types/grant"
	"google.golang.org/protobuf/proto"
)

const (
	// defaultPageSize is the page size when baton does not ask for one. It is also the
	// ceiling: a page is one gRPC message in `gatehouse connector` mode, where baton's
	// default message limit is 4 MiB.
	defaultPageSize = 250
	// pageByteBudget ends a page of resources early once it is this large. Profiles carry
	// policy documents, and some AWS-managed policies are tens of kilobytes each.
	pageByteBudget = 1 << 20
)

// window is one page of an ordered list: items [start, end), and the token of the next page
// ("" on the last one). Tokens are decimal offsets into the index's sorted lists, which are
// stable because the snapshot does not change during a sync.
type window struct {
	start, end int
	next       string
}

func (c *Connector) window(tok pagination.Token, n int) (window, error) {
	size := tok.Size
	if c.pageSize > 0 {
		size = c.pageSize
	}
	if size <= 0 || size > defaultPageSize {
		size = defaultPageSize
	}
	start := 0
	if tok.Token != "" {
		var err error
		start, err = strconv.Atoi(tok.Token)
		if err != nil || start < 0 {
			return window{}, fmt.Errorf("connector: invalid page token %q", tok.Token)
		}
	}
	start = min(start, n)
	w := window{start: start, end: min(start+size, n)}
	if w.end < n {
		w.next = strconv.Itoa(w.end)
	}
	return w, nil
}

// pageResources builds the resources of one page of n items, stopping early when the page
// grows past pageByteBudget (always after at least one item, so paging advances).
func pageResources(c *Connector, tok pagination.Token, n int, build func(i int) (*v2.Resource, error)) ([]*v2.Resource, string, error) {
	w, err := c.window(tok, n)
	if err != nil {
		return nil, "", err
	}
	out := make([]*v2.Resource, 0, w.end-w.start)
	bytes := 0
	for i := w.start; i < w.end; i++ {
		r, err := build(i)
		if err != nil {
			return nil, "", err
		}
		out = append(out, r)
		bytes += proto.Size(r)
		if bytes >= pageByteBudget && i+1 < n {
			return out, strconv.Itoa(i + 1), nil
		}
	}
	return out, w.next, nil
}

func resourceID(typ, id string) *v2.ResourceId {
	return v2.ResourceId_builder{ResourceType: typ, Resource: id}.Build()
}

// entitlementID is baton's entitlement id format, "<type>:<resource id>:<slug>".
func entitlementID(typ, id, slug string) string {
	return typ + ":" + id + ":" + slug
}

// newGrant returns the grant of slug on the resource to principal p. The entitlement names
// its resource by id only: a grant that embedded the whole resource would repeat its profile
// (policy documents included) once per principal.
func newGrant(r *v2.Resource, slug string, p principalRef, opts ...grant.GrantOption) *v2.Grant {
	ref := v2.Resource_builder{Id: r.GetId()}.Build()
	return grant.NewGrant(ref, slug, resourceID(p.typ, p.id), opts...)
}

// expandableTo marks a grant to a group as held by every holder of the group's member
// entitlement, so baton's syncer materialises a grant for each member.
func expandableTo(memberEntitlementID string) grant.GrantOption {
	return grant.WithAnnotation(v2.GrantExpandable_builder{EntitlementIds: []string{memberEntitlementID}}.Build())
}

// profile is a resource profile under construction. Empty strings, empty lists and zero
// times are left out, so that a profile says what is known and nothing else.
type profile map[string]any

func (p profile) str(k, v string) {
	if v != "" {
		p[k] = v
	}
}

func (p profile) time(k string, t time.Time) {
	if !t.IsZero() {
		p[k] = formatTime(t)
	}
}

func (p profile) strs(k string, v []string) {
	if len(v) == 0 {
		return
	}
	l := make([]any, len(v))
	for i, s := range v {
		l[i] = s
	}
	p[k] = l
}

func (p profile) tags(k string, tags map[string]string) {
	if len(tags) == 0 {
		return
	}
	m := make(map[string]any, len(tags))
	for key, v := range tags {
		m[key] = v
	}
	p[k] = m
}

func (p profile) list(k string, items []map[string]any) {
	if len(items) == 0 {
		return
	}
	l := make([]any, len(items))
	for i, it := range items {
		l[i] = it
	}
	p[k] = l
}

func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}
