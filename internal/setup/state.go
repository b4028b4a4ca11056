package setup

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// DefaultStateDir is where setup keeps its state; the repository's .gitignore lists it.
const DefaultStateDir = ".gatehouse"

// StateFile is the file in the state directory that keeps the External ID.
const StateFile = "aws-setup.json"

// state is what setup remembers between runs.
type state struct {
	ExternalID string    `json:"external_id"`
	CreatedAt  time.Time `json:"created_at"`
	Note       string    `json:"note"`
}

// ExternalID is the External ID setup uses, and where it came from.
type ExternalID struct {
	Value string
	// Path is the state file that keeps it.
	Path string
	// Origin is "new", "reused" or "given".
	Origin string
	// Replaced is the External ID the state file held before a different one was given;
	// roles created with it no longer match the generated trust policy.
	Replaced string
}

// NewExternalID returns 160 random bits from crypto/rand, hex-encoded: far beyond
// guessing, and within the characters AWS allows in an External ID.
func NewExternalID() (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate an External ID: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// ResolveExternalID returns the External ID for a run: the one given, else the one
// kept in dir from an earlier run, else a new random one. The result is kept in dir,
// so that the next run reuses it and never silently invalidates a role whose trust
// policy was created with it.
func ResolveExternalID(dir, given string) (ExternalID, error) {
	if dir == "" {
		dir = DefaultStateDir
	}
	path := filepath.Join(dir, StateFile)
	var old state
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &old); err != nil || old.ExternalID == "" {
			return ExternalID{}, fmt.Errorf("%s is not a Gatehouse setup state file (%v); move it away, or pass --external-id with the External ID your role requires", path, errOr(err, "no external_id"))
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return ExternalID{}, fmt.Errorf("read %s: %w", path, err)
	}

	id := ExternalID{Path: path}
	switch {
	case given != "":
		id.Value, id.Origin = given, "given"
		if old.ExternalID != "" && old.ExternalID != given {
			id.Replaced = old.ExternalID
		}
		if old.ExternalID == given {
			return id, nil
		}
	case old.ExternalID != "":
		id.Value, id.Origin = old.ExternalID, "reused"
		return id, nil
	default:
		v, err := NewExternalID()
		if err != nil {
			return ExternalID{}, err
		}
		id.Value, id.Origin = v, "new"
	}
	st := state{ExternalID: id.Value, CreatedAt: time.Now().UTC().Truncate(time.Second),
		Note: "The External ID of the Gatehouse connector role's trust policy. gatehouse setup aws reuses it; keep it."}
	if err := writeState(dir, path, st); err != nil {
		return ExternalID{}, err
	}
	return id, nil
}

func errOr(err error, msg string) string {
	if err != nil {
		return err.Error()
	}
	return msg
}

// writeState writes the state file readable by its owner only, through a temporary
// file, so an interrupted run leaves the old state or the new one.
func writeState(dir, path string, st state) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the state directory %s: %w", dir, err)
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+StateFile+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := tmp.Write(append(data, '\n'))
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}
