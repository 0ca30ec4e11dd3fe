package netstate

import (
	"encoding/json"
	"fmt"
)

// Encode is the stored form of s: JSON with the field names of State.
func (s State) Encode() []byte {
	b, err := json.Marshal(s.Sorted())
	if err != nil {
		panic(err) // plain strings, ints, bools and netip values always marshal
	}
	return b
}

// Decode reads a state Encode wrote. A state stored before the NoDAD
// fields existed was always applied without DAD, so absent fields are
// true.
func Decode(b []byte) (State, error) {
	s := State{TransitNoDAD: true, TenantNoDAD: true}
	if err := json.Unmarshal(b, &s); err != nil {
		return State{}, fmt.Errorf("decode network state: %w", err)
	}
	return s.Sorted(), nil
}
