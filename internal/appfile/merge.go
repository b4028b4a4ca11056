package appfile

import (
	"context"
	"fmt"
)

// Merge combines the Data of several files of one import (say identities
// in users.csv and grants in access.csv, or one complete file) and
// validates across them: a user declared in two files is a duplicate
// (naming both rows), a user taken from grant rows must agree with the
// same user's declared row, and every grant's user must be a user of some
// part. Callers should pass every file of an import through Merge, even a
// single one: a file of grants alone can only be checked here. Grants
// repeated across files are listed once; NearDuplicates are recomputed over
// all grants. Data is nil when there is any problem.
func Merge(parts ...*Data) (*Data, []Problem) {
	b := newBuilder(context.Background(), "", Options{}, columnSet{})
	for _, p := range parts {
		if p == nil {
			continue
		}
		for _, id := range p.Identities {
			b.addIdentity(id, Columns[colUserID], nil)
		}
		b.grants = append(b.grants, p.Grants...)
	}
	if !b.stopped {
		for _, g := range b.grants {
			if _, ok := b.idIndex[g.UserID]; !ok {
				if !b.add(Problem{File: g.File, Part: g.Part, Row: g.Row, Line: g.Line, Column: Columns[colUserID],
					Message: fmt.Sprintf("unknown user %q: no file of this import has a user with this User ID; add the user to the users file or correct the User ID", g.UserID)}) {
					break
				}
			}
		}
	}
	if len(b.probs) > 0 {
		if b.stopped {
			b.probs = append(b.probs, Problem{Message: fmt.Sprintf("stopped after %d problems; fix these and import the files again", b.max)})
		}
		sortProblems(b.probs)
		return nil, b.probs
	}
	keys := keyCache{}
	d := &Data{Identities: b.ids, Grants: dedupeGrants(b.grants, keys)}
	if d.Identities == nil {
		d.Identities = []Identity{}
	}
	d.NearDuplicates = nearDuplicates(d.Grants, keys)
	return d, nil
}
