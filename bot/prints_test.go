package bot

import (
	"slices"
	"testing"

	"github.com/wirewatch/wirewatch/cluster"
)

// TestPrintBytes: a fingerprint's bytes hold the signature and the weighed
// facts; one written before facts were kept (the signature alone) still
// reads, without facts; anything else is refused.
func TestPrintBytes(t *testing.T) {
	p := textPrint{cluster.Sign("Tarrant to cut 900 jobs in Wichita", "The supplier will cut 900 jobs."),
		cluster.Extract("Tarrant to cut 900 jobs in Wichita", "The supplier will cut 900 jobs.")}
	p.facts.Weigh(10, func(uint32) int64 { return 1 })
	back, err := unmarshalPrint(marshalPrint(p))
	if err != nil || !back.sig.Same(p.sig) || !slices.Equal(back.facts.Terms(), p.facts.Terms()) || !slices.Equal(back.facts.Keys(), p.facts.Keys()) {
		t.Fatalf("round trip: %v", err)
	}
	old, _ := p.sig.MarshalBinary()
	if back, err := unmarshalPrint(old); err != nil || !back.sig.Same(p.sig) || back.facts.Len() != 0 {
		t.Errorf("signature-only bytes: %v, %d terms", err, back.facts.Len())
	}
	for _, bad := range [][]byte{nil, old[:10], append(slices.Clone(old), 1)} {
		if _, err := unmarshalPrint(bad); err == nil {
			t.Errorf("unmarshalPrint accepted %d bytes", len(bad))
		}
	}
}
