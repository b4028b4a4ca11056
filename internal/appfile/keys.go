package appfile

import (
	"strings"
	"unicode"
)

// Normalise folds one name for an entitlement's identity: surrounding
// whitespace trimmed, letters lower-cased (Unicode), and every run of inner
// whitespace collapsed to one space. "  Eng   Leads " and "eng leads" are
// the same; "eng-leads" and "eng_leads" are not (see NearDuplicate).
func Normalise(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range strings.TrimSpace(s) {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// EntitlementKey is an entitlement's stable identity: the resource type,
// resource name and entitlement, each normalised with Normalise, joined by
// "/" (a "/" or "\" inside a part is escaped with "\", so the key is never
// ambiguous). EntitlementKey("Group", " Engineering ", "Eng  Leads") is
// "group/engineering/eng leads".
func EntitlementKey(resourceType, resource, entitlement string) string {
	return escapeKeyPart(Normalise(resourceType)) + "/" + escapeKeyPart(Normalise(resource)) + "/" + escapeKeyPart(Normalise(entitlement))
}

func escapeKeyPart(s string) string {
	if !strings.ContainsAny(s, `/\`) {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `/`, `\/`).Replace(s)
}

// nearNormalise folds a name further than Normalise for near-duplicate
// detection: after Normalise, every run of separators (whitespace, "-",
// "_", ".") becomes one space and separators at either end are dropped. So
// "eng-leads", "eng leads", "Eng_Leads", "eng.leads" and "eng - leads" all
// fold to "eng leads"; "engleads" does not.
func nearNormalise(s string) string {
	var b strings.Builder
	sep := false
	for _, r := range Normalise(s) {
		if unicode.IsSpace(r) || r == '-' || r == '_' || r == '.' {
			sep = b.Len() > 0
			continue
		}
		if sep {
			b.WriteByte(' ')
			sep = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// nearKey is EntitlementKey with nearNormalise.
func nearKey(resourceType, resource, entitlement string) string {
	return escapeKeyPart(nearNormalise(resourceType)) + "/" + escapeKeyPart(nearNormalise(resource)) + "/" + escapeKeyPart(nearNormalise(entitlement))
}

// nearDuplicates groups grants' entitlements whose nearKey is equal but
// whose EntitlementKey differs. Groups come in order of first appearance.
func nearDuplicates(gs []Grant, keys keyCache) []NearDuplicate {
	type group struct {
		keys, spellings, rows []string
	}
	var order []string
	groups := map[string]*group{}
	seenKey := map[string]bool{}
	for _, g := range gs {
		ek := keys.key(g)
		if seenKey[ek] {
			continue
		}
		seenKey[ek] = true
		nk := nearKey(g.ResourceType, g.ResourceName, g.Entitlement)
		gr := groups[nk]
		if gr == nil {
			gr = &group{}
			groups[nk] = gr
			order = append(order, nk)
		}
		gr.keys = append(gr.keys, ek)
		gr.spellings = append(gr.spellings, g.ResourceType+" / "+g.ResourceName+" / "+g.Entitlement)
		gr.rows = append(gr.rows, where(g.File, g.Part, g.Row, true))
	}
	var out []NearDuplicate
	for _, nk := range order {
		gr := groups[nk]
		if len(gr.keys) < 2 {
			continue
		}
		out = append(out, NearDuplicate{Key: gr.keys[0], Other: gr.keys[1], Keys: gr.keys, Spellings: gr.spellings, Rows: gr.rows})
	}
	return out
}

// keyCache remembers the EntitlementKey of each spelling: a large file
// repeats a few hundred entitlements over many rows.
type keyCache map[[3]string]string

func (k keyCache) key(g Grant) string {
	t := [3]string{g.ResourceType, g.ResourceName, g.Entitlement}
	if s, ok := k[t]; ok {
		return s
	}
	s := EntitlementKey(g.ResourceType, g.ResourceName, g.Entitlement)
	k[t] = s
	return s
}
