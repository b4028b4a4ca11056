package appfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The JSON and YAML shape: {"identities": [...], "grants": [...]}, each item
// an object whose keys are the columns in snake_case (user_id,
// email_address, ...; any case and spacing, or as mapped). A row is an
// item's index in its list, 1-based.

// keyValue is one key of a JSON or YAML item.
type keyValue struct {
	key, value string
	notText    bool // an object or a list where text belongs
}

// listTable returns the column names problems use for a list's items.
func (b *builder) listNames() *[numCols]string {
	var n [numCols]string
	for c := range n {
		n[c] = snake(col(c))
		if b.cols.mapped[c] != "" {
			n[c] = b.cols.mapped[c]
		}
	}
	return &n
}

// keyCols maps a normalised key to its canonical column.
func (b *builder) keyCols() map[string]col {
	m := map[string]col{}
	for c := range Columns {
		if _, taken := m[b.cols.header[c]]; !taken {
			m[b.cols.header[c]] = col(c)
		}
	}
	return m
}

// item reads one JSON or YAML item of list part (identities or grants).
func (b *builder) item(part string, idx, line int, kvs []keyValue, keys map[string]col, names *[numCols]string) error {
	l := loc{file: b.file, part: part}
	rec := record{name: names, list: true}
	for _, kv := range kvs {
		c, ok := keys[normaliseHeader(kv.key)]
		if !ok || c == colKind { // other keys are ignored, like extra columns; the list is the row kind
			continue
		}
		if kv.notText {
			b.add(Problem{File: b.file, Part: part, Row: idx, Line: line, Column: kv.key, Message: fmt.Sprintf("%q must be text (or a number), not a list or an object", kv.key)})
			continue
		}
		rec.val[c], rec.present[c] = kv.value, true
	}
	m := modeIdentities
	if part == partGrants {
		m = modeGrants
	}
	if rec.empty() {
		// An empty item would be skipped like an empty CSV row; in a list it is a mistake.
		b.add(Problem{File: b.file, Part: part, Row: idx, Line: line, Message: fmt.Sprintf("the item has none of the keys Gatehouse reads: give it %s", listKeysHint(part, names))})
		if b.stopped {
			return errStop
		}
		return nil
	}
	return b.row(l, idx, line, m, &rec)
}

func listKeysHint(part string, names *[numCols]string) string {
	if part == partGrants {
		return joinAnd([]string{names[colResourceType], names[colResourceName], names[colEntitlement], names[colUserID]})
	}
	return names[colUserID] + " (and email_address, full_name, ...)"
}

// topLevel checks a top-level key.
func (b *builder) topLevel(key string, line int) (string, bool) {
	b.userCol[partIdentities] = b.listNames()[colUserID]
	b.userCol[partGrants] = b.userCol[partIdentities]
	switch normaliseHeader(key) {
	case partIdentities:
		b.checkIDs = true
		return partIdentities, true
	case partGrants:
		return partGrants, true
	}
	b.add(Problem{File: b.file, Line: line, Column: key, Message: fmt.Sprintf("unknown key %q at the top of the file: use \"identities\" and \"grants\" (lists of objects)", key)})
	return "", false
}

func (b *builder) noLists(seen int) {
	if seen == 0 && len(b.probs) == 0 {
		b.add(Problem{File: b.file, Message: `the file has neither "identities" nor "grants": write {"identities": [{"user_id": ...}], "grants": [{"resource_type": ..., "resource_name": ..., "entitlement": ..., "user_id": ...}]}`})
	}
}

// parseJSON streams the lists item by item with a json.Decoder.
func parseJSON(b *builder, r io.Reader) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	names, keys := b.listNames(), b.keyCols()
	bad := func(part string, row int, err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			b.add(Problem{File: b.file, Part: part, Row: row, Message: fmt.Sprintf("bad JSON at byte %d (%v): check the file with a JSON validator", se.Offset, se)})
			return errStop
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			b.add(Problem{File: b.file, Part: part, Row: row, Message: "the JSON ends too early: the file is cut short or a bracket is not closed"})
			return errStop
		}
		return err
	}
	tok, err := dec.Token()
	if err == io.EOF {
		b.add(Problem{File: b.file, Message: `the file is empty: write {"identities": [...], "grants": [...]}`})
		return nil
	}
	if err != nil {
		return bad("", 0, err)
	}
	if tok != json.Delim('{') {
		b.add(Problem{File: b.file, Message: `the file must be one JSON object: {"identities": [...], "grants": [...]}`})
		return nil
	}
	lists := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad("", 0, err)
		}
		key, _ := tok.(string)
		part, ok := b.topLevel(key, 0)
		if !ok {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return bad("", 0, err)
			}
			continue
		}
		lists++
		if tok, err = dec.Token(); err != nil {
			return bad(part, 0, err)
		}
		if tok == nil { // "grants": null is an empty list
			continue
		}
		if tok != json.Delim('[') {
			b.add(Problem{File: b.file, Part: part, Column: key, Message: fmt.Sprintf("%q must be a list: %q: [{...}, {...}]", key, key)})
			return nil
		}
		for idx := 1; dec.More(); idx++ {
			var obj map[string]any
			if err := dec.Decode(&obj); err != nil {
				var te *json.UnmarshalTypeError
				if errors.As(err, &te) {
					b.add(Problem{File: b.file, Part: part, Row: idx, Message: fmt.Sprintf("each item of %q must be an object like {\"user_id\": \"u1\", ...}", key)})
					if b.stopped {
						return errStop
					}
					continue
				}
				return bad(part, idx, err)
			}
			kvs := make([]keyValue, 0, len(obj))
			for k, v := range obj {
				kv := keyValue{key: k}
				switch v := v.(type) {
				case nil:
				case string:
					kv.value = v
				case json.Number:
					kv.value = v.String()
				case bool:
					kv.value = strconv.FormatBool(v)
				default:
					kv.notText = true
				}
				kvs = append(kvs, kv)
			}
			trimValues(kvs)
			if err := b.item(part, idx, 0, kvs, keys, names); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return bad(part, 0, err)
		}
	}
	b.noLists(lists)
	return nil
}

func trimValues(kvs []keyValue) {
	for i := range kvs {
		kvs[i].value = strings.TrimSpace(kvs[i].value)
	}
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// parseYAML decodes the document into nodes (YAML is not streamed) and
// reads the lists item by item; each item's line is reported with it.
func parseYAML(b *builder, r io.Reader) error {
	dec := yaml.NewDecoder(r)
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			b.add(Problem{File: b.file, Message: "the file is empty: write identities: [...] and grants: [...]"})
			return nil
		}
		p := Problem{File: b.file, Message: fmt.Sprintf("bad YAML (%v): check the indentation and quoting", err)}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
		}
		b.add(p)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		b.add(Problem{File: b.file, Line: extra.Line, Message: "the file has more than one YAML document (---): put identities and grants in one"})
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		b.add(Problem{File: b.file, Line: root.Line, Message: "the file must be a mapping with identities: [...] and grants: [...]"})
		return nil
	}
	names, keys := b.listNames(), b.keyCols()
	lists := 0
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		part, ok := b.topLevel(k.Value, k.Line)
		if !ok {
			continue
		}
		lists++
		if v.Tag == "!!null" {
			continue
		}
		if v.Kind != yaml.SequenceNode {
			b.add(Problem{File: b.file, Part: part, Line: v.Line, Column: k.Value, Message: fmt.Sprintf("%q must be a list of items (lines starting with \"- \")", k.Value)})
			continue
		}
		for idx, it := range v.Content {
			if it.Kind != yaml.MappingNode {
				b.add(Problem{File: b.file, Part: part, Row: idx + 1, Line: it.Line, Message: fmt.Sprintf("each item of %q must be a mapping like - user_id: u1", k.Value)})
				if b.stopped {
					return errStop
				}
				continue
			}
			kvs := make([]keyValue, 0, len(it.Content)/2)
			for j := 0; j+1 < len(it.Content); j += 2 {
				kk, vv := it.Content[j], it.Content[j+1]
				kv := keyValue{key: kk.Value}
				switch {
				case vv.Kind == yaml.AliasNode && vv.Alias != nil && vv.Alias.Kind == yaml.ScalarNode:
					kv.value = vv.Alias.Value
				case vv.Kind != yaml.ScalarNode:
					kv.notText = true
				case vv.Tag != "!!null":
					kv.value = vv.Value
				}
				kvs = append(kvs, kv)
			}
			trimValues(kvs)
			if err := b.item(part, idx+1, it.Line, kvs, keys, names); err != nil {
				return err
			}
		}
	}
	b.noLists(lists)
	return nil
}
