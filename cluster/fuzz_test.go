package cluster

import "testing"

// FuzzSign: Sign never panics, is a function of its input, and its signature
// survives a round trip through bytes. Seeds: testdata/fuzz/FuzzSign.
func FuzzSign(f *testing.F) {
	f.Add("Senate Gives Final Approval To Ukraine Aid", "The Senate has given final congressional approval.")
	f.Add("UPDATE 1-Zürich café owner sues", "ZÜRICH (Reuters) -")
	f.Fuzz(func(t *testing.T, title, summary string) {
		s := Sign(title, summary)
		if again := Sign(title, summary); again != s {
			t.Fatalf("Sign(%q, %q) differs between calls", title, summary)
		}
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back Signature
		if err := back.UnmarshalBinary(b); err != nil || back != withoutKeys(s) {
			t.Fatalf("round trip: %v, equal %v", err, back == withoutKeys(s))
		}
		if len(s.Keys()) != 0 && s.Empty() {
			t.Fatalf("an empty signature has keys %v", s.Keys())
		}
		want := 1.0
		if s.Empty() {
			want = 0
		}
		if got := Similarity(s, s); got != want {
			t.Fatalf("Similarity(s, s) = %v, want %v", got, want)
		}
		if s.Empty() != (s.Shingles() == 0) {
			t.Fatalf("Empty %v with %d shingles", s.Empty(), s.Shingles())
		}
	})
}
