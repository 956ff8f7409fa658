package cluster

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
)

func TestWords(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"Zürich's Bank FAILS", []string{"zurich", "bank", "fails"}},
		{"U.S. Deserves A Leader", []string{"u", "deserves", "leader"}},
		{"The Senate Passes The Bill", []string{"senate", "passes", "bill"}},
		{"Trump Says He Will Veto It", []string{"trump", "veto"}},
		{"Export-Control Rules", []string{"export", "control", "rules"}},
		{"UPDATE 2-Manchin floats outline", []string{"manchin", "floats", "outline"}},
		{"REFILE-UPDATE 1-Manchin floats outline", []string{"manchin", "floats", "outline"}},
		{"UPDATE 3-14 Americans test positive", []string{"14", "americans", "test", "positive"}},
		{"Apple Update 2 Ships", []string{"apple", "2", "ships"}},
		{"WASHINGTON (Reuters) - The Senate", []string{"washington", "senate"}},
		{"23 Of The Funniest Tweets (Sept. 17-23)", []string{"23", "funniest", "tweets", "sept", "17", "23"}},
		{"英伟达 H20", []string{"英", "伟", "达", "h20"}},
		{"", nil},
		{"— !!! —", nil},
	}
	for _, tt := range tests {
		if got := words(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("words(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestSignNormalises lists texts that differ only in what Sign ignores.
func TestSignNormalises(t *testing.T) {
	tests := []struct{ a, b [2]string }{
		{[2]string{"Zürich Bank Fails", ""}, [2]string{"ZURICH bank fails", ""}},
		{[2]string{"Senate Passes Aid Bill", "The bill goes to the president."}, [2]string{"senate passes aid bill", "Bill goes to president"}},
		{[2]string{"UPDATE 1-Senate passes aid bill", "x y z"}, [2]string{"Senate passes aid bill", "x y z"}},
		{[2]string{"Senate passes aid bill", "WASHINGTON (Reuters) - The bill now goes to Biden."}, [2]string{"Senate passes aid bill", "WASHINGTON (AP) — The bill now goes to Biden."}},
		{[2]string{"Trump's  \u00a0new   \t rule", ""}, [2]string{"trump s new rule", ""}},
		{[2]string{"Café\u00ad Owner Sues", ""}, [2]string{"Cafe Owner Sues", ""}},
	}
	for _, tt := range tests {
		a, b := Sign(tt.a[0], tt.a[1]), Sign(tt.b[0], tt.b[1])
		if a != b {
			t.Errorf("Sign%q != Sign%q", tt.a, tt.b)
		}
		if a.Empty() {
			t.Errorf("Sign%q is empty", tt.a)
		}
	}
}

func TestSignSeparates(t *testing.T) {
	tests := []struct{ a, b [2]string }{
		// Title and summary are shingled apart, and the summary weighs more.
		{[2]string{"Senate passes", "aid bill"}, [2]string{"Senate passes aid bill", ""}},
		// Word order matters.
		{[2]string{"Dog Bites Man", ""}, [2]string{"Man Bites Dog", ""}},
		// Numbers count.
		{[2]string{"Funniest Tweets (Sept. 17-23)", ""}, [2]string{"Funniest Tweets (Sept. 10-16)", ""}},
	}
	for _, tt := range tests {
		if Sign(tt.a[0], tt.a[1]) == Sign(tt.b[0], tt.b[1]) {
			t.Errorf("Sign%q == Sign%q", tt.a, tt.b)
		}
	}
}

func TestSignEmpty(t *testing.T) {
	for _, text := range [][2]string{{"", ""}, {"!!!", "—"}, {"The", "of a"}} {
		s := Sign(text[0], text[1])
		if !s.Empty() || s.Short() || s.Shingles() != 0 {
			t.Errorf("Sign%q: empty %v, short %v, shingles %d; want an empty signature", text, s.Empty(), s.Short(), s.Shingles())
		}
		if got := Similarity(s, s); got != 0 {
			t.Errorf("Similarity of an empty signature with itself = %v, want 0", got)
		}
	}
}

func TestSignShort(t *testing.T) {
	tests := []struct {
		title, summary string
		short          bool
		shingles       int
	}{
		// 3 words: 3 single words and 2 bigrams.
		{"Earthquake Hits Japan", "", true, 5},
		// 5 words: 5 single words and 4 bigrams.
		{"Trump fires FBI director Comey", "", true, 9},
		// 9 words: 8 bigrams, no single words.
		{"Robert Mugabe, Zimbabwe's First Post-Independence Leader, Dead At 95", "", true, 8},
		// A summary of 3 content words adds 2 bigrams, 3 times each.
		{"Robert Mugabe, Zimbabwe's First Post-Independence Leader, Dead At 95", "Mugabe ruled for decades", false, 14},
	}
	for _, tt := range tests {
		s := Sign(tt.title, tt.summary)
		if s.Short() != tt.short || s.Shingles() != tt.shingles {
			t.Errorf("Sign(%q, %q): short %v, %d shingles; want %v, %d", tt.title, tt.summary, s.Short(), s.Shingles(), tt.short, tt.shingles)
		}
	}
}

func TestSimilarity(t *testing.T) {
	a := Sign("Senate Gives Final Approval To Ukraine Aid, Huge Budget Bill",
		"The Senate has given final congressional approval to a $13.6 billion emergency package of military and humanitarian aid for besieged Ukraine and its European allies.")
	if got := Similarity(a, a); got != 1 {
		t.Errorf("Similarity(a, a) = %v, want 1", got)
	}
	b := Sign("Congress Sends $13.6 Billion Ukraine Aid Package To Biden's Desk",
		"The Senate has given final congressional approval to a $13.6 billion emergency package of military and humanitarian aid for besieged Ukraine and its European allies.")
	c := Sign("Netanyahu Holds Solid Lead In Israeli Elections",
		"Early exit polls show Prime Minister Benjamin Netanyahu holds a solid edge over his main rival in Israel's third election in under a year.")
	if ab, ac := Similarity(a, b), Similarity(a, c); ab < DefaultThreshold || ac > 0.1 {
		t.Errorf("Similarity(re-titled copy) = %.3f, want ≥ %.2f; Similarity(other event) = %.3f, want ≤ 0.1", ab, DefaultThreshold, ac)
	}
	if Similarity(a, b) != Similarity(b, a) {
		t.Error("Similarity is not symmetric")
	}
}

func TestSignatureBinary(t *testing.T) {
	for _, s := range []Signature{Sign("", ""), Sign("Earthquake Hits Japan", ""), Sign("Kofi Annan, Former United Nations Secretary-General, Dead At 80", "Tributes have flooded in.")} {
		b, err := s.MarshalBinary()
		if err != nil || len(b) != SignatureSize {
			t.Fatalf("MarshalBinary: %d bytes, %v; want %d bytes", len(b), err, SignatureSize)
		}
		var back Signature
		if err := back.UnmarshalBinary(b); err != nil || back != withoutKeys(s) {
			t.Errorf("UnmarshalBinary(MarshalBinary(s)) = %v, %v; want s less its keys", back == withoutKeys(s), err)
		}
	}
	var s Signature
	for _, n := range []int{0, SignatureSize - 1, SignatureSize + 1} {
		if err := s.UnmarshalBinary(make([]byte, n)); !errors.Is(err, ErrSignatureSize) {
			t.Errorf("UnmarshalBinary(%d bytes) = %v, want ErrSignatureSize", n, err)
		}
	}
}

// TestSignStable pins the signature and keys of one text, so that a change
// of the hash functions, the seeds or the shingling, which would split every
// stored cluster from the new stories after an upgrade, does not go
// unnoticed.
func TestSignStable(t *testing.T) {
	s := Sign("Over 4 Million Americans Roll Up Sleeves For Omicron-Targeted COVID Boosters",
		"Health experts said it is too early to predict whether demand would match up with the 171 million doses of the new boosters the U.S. ordered for the fall.")
	b, _ := s.MarshalBinary()
	for _, k := range s.Keys() {
		b = binary.LittleEndian.AppendUint64(b, k)
	}
	sum := sha256.Sum256(b)
	const want = "a1a3733958835088"
	if got := hex.EncodeToString(sum[:8]); got != want {
		t.Errorf("signature digest = %s, want %s", got, want)
	}
}

// withoutKeys is s as it reads back from bytes.
func withoutKeys(s Signature) Signature {
	s.keys = [NumKeys]uint64{}
	return s
}
