package cluster

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"testing"
)

var writePrior = flag.Bool("write-prior", false, "rewrite prior.bin from the shared corpus")

// buildPrior counts, for every term, the corpus stories whose facts have it.
func buildPrior(t *testing.T) []byte {
	f, err := os.Open(corpusPath)
	if err != nil {
		t.Skip("no corpus:", err)
	}
	defer f.Close()
	df := map[uint32]uint32{}
	n := uint32(0)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct{ Title, Summary string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		n++
		facts := Extract(r.Title, r.Summary)
		for _, term := range facts.Terms() {
			df[term]++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var terms []uint32
	for term, c := range df {
		if c >= priorMinDF {
			terms = append(terms, term)
		}
	}
	slices.Sort(terms)
	b := binary.LittleEndian.AppendUint32(nil, n)
	for _, term := range terms {
		b = binary.LittleEndian.AppendUint32(b, term)
		b = binary.LittleEndian.AppendUint32(b, df[term])
	}
	return b
}

// TestPrior checks that prior.bin is what the corpus and Extract give
// (go test -run TestPrior -write-prior ./cluster/ rewrites it).
func TestPrior(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the corpus")
	}
	b := buildPrior(t)
	if *writePrior {
		if err := os.WriteFile("prior.bin", b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(b, priorData) {
		t.Fatalf("prior.bin is stale (%d bytes, the corpus gives %d): go test -run TestPrior -write-prior ./cluster/", len(priorData), len(b))
	}
	n, df := priorCounts(Extract("The Senate", "").Terms()[0])
	if n != 9999 || df < 10 {
		t.Errorf("prior counts of senate: n %d, df %d", n, df)
	}
}
