package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// Suspension is an operator's hold on the node: the agent stays at
// Revision and applies no newer revision of the branch until it is lifted
// (design.md §6.14).
type Suspension struct {
	// Revision is the revision the node stays at.
	Revision string    `json:"revision"`
	Since    time.Time `json:"since"`
	Reason   string    `json:"reason,omitempty"`
	// From is the revision drover rollback left; "" after drover suspend.
	From string `json:"rolled_back_from,omitempty"`
}

// Suspension returns the stored suspension, nil when the node is not
// suspended.
func (s *Store) Suspension() (*Suspension, error) {
	v, err := s.Meta(MetaSuspension)
	if err != nil || v == "" {
		return nil, err
	}
	var sus Suspension
	if err := json.Unmarshal([]byte(v), &sus); err != nil || sus.Revision == "" {
		return nil, fmt.Errorf("read suspension from agent store: %q is not a suspension", v)
	}
	return &sus, nil
}

// SetSuspension stores the suspension; nil lifts it.
func (s *Store) SetSuspension(sus *Suspension) error {
	if sus == nil {
		return s.SetMeta(MetaSuspension, "")
	}
	if sus.Revision == "" {
		return fmt.Errorf("record suspension: empty revision")
	}
	v, err := json.Marshal(sus)
	if err != nil {
		return fmt.Errorf("record suspension: %w", err)
	}
	return s.SetMeta(MetaSuspension, string(v))
}
