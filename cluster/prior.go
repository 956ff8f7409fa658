package cluster

import (
	_ "embed"
	"encoding/binary"
	"sort"
)

// priorData is the document frequencies of the terms of a prior corpus: the
// 9,999 HuffPost headlines and summaries of the shared corpus (News Category
// Dataset, CC BY 4.0), as Extract reads them. It starts with the number of
// stories as a little-endian uint32, then each term seen in at least
// priorMinDF stories as a little-endian uint32 hash and uint32 count, by
// hash. TestPrior rebuilds it from the corpus and checks it is current.
//
//go:embed prior.bin
var priorData []byte

// priorMinDF is the fewest stories of the prior corpus a term must be in to
// be kept: rarer terms weigh as if unseen.
const priorMinDF = 3

// priorCounts returns the number of stories of the prior corpus and the
// number that have a term.
func priorCounts(term uint32) (n, df int64) {
	if len(priorData) < 4 {
		return 0, 0
	}
	n = int64(binary.LittleEndian.Uint32(priorData))
	entries := (len(priorData) - 4) / 8
	i := sort.Search(entries, func(i int) bool {
		return binary.LittleEndian.Uint32(priorData[4+8*i:]) >= term
	})
	if i < entries && binary.LittleEndian.Uint32(priorData[4+8*i:]) == term {
		df = int64(binary.LittleEndian.Uint32(priorData[8+8*i:]))
	}
	return n, df
}
