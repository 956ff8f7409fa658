package cluster

import (
	"math"
	"time"
)

// numClusterFeatures is the number of clusterFeatures.
const numClusterFeatures = 8

// clusterSums gather what the judge knows of the candidates of one cluster:
// the same-event model's probabilities for those it judged, and what all of
// them, judged or not, have of the new story.
type clusterSums struct {
	sum     float64 // of the probabilities, over the n judged
	n       int
	best    int     // the judged candidate of the highest probability
	top     float64 // its probability
	members int     // candidates within the window with facts
	// covered marks the new story's terms (by their index; MaxTerms is
	// 64) that some member has.
	covered uint64
	gap     float64 // hours to the nearest member
}

// gatherCluster sums the candidates of cands[i]'s cluster: the
// probabilities of those judged (prob is -1 for a candidate not judged),
// then what every member within window of at has of the new story's facts,
// indexed in ix.
func gatherCluster(i int, cands []Candidate, prob []float64, ix *termIndex, facts *Facts, at time.Time, window time.Duration) clusterSums {
	g := judgedSums(i, cands, prob, at)
	g.addMembers(i, cands, ix, facts, at, window)
	return g
}

// judgedSums sums the probabilities of the candidates of cands[i]'s
// cluster from i on (those before i were judged with their own cluster
// already), with, in gap, the hours to the nearest of them.
func judgedSums(i int, cands []Candidate, prob []float64, at time.Time) clusterSums {
	g := clusterSums{best: i, gap: math.Inf(1)}
	for k := i; k < len(cands); k++ {
		if prob[k] < 0 || k != i && (cands[i].Cluster == "" || cands[k].Cluster != cands[i].Cluster) {
			continue
		}
		g.sum += prob[k]
		g.n++
		if prob[k] > prob[g.best] {
			g.best = k
		}
		g.gap = min(g.gap, math.Abs(cands[k].At.Sub(at).Hours()))
	}
	g.top = prob[g.best]
	return g
}

// addMembers counts the members of cands[i]'s cluster within window of
// at, what they have of the new story's facts, indexed in ix, and the
// hours to the nearest of them.
func (g *clusterSums) addMembers(i int, cands []Candidate, ix *termIndex, facts *Facts, at time.Time, window time.Duration) {
	for k := range cands {
		if k != i && (cands[i].Cluster == "" || cands[k].Cluster != cands[i].Cluster) {
			continue
		}
		c := &cands[k]
		d := c.At.Sub(at)
		if d > window || d < -window || c.Facts.norm == 0 {
			continue
		}
		g.members++
		g.covered |= cover(ix, facts, &c.Facts)
		g.gap = min(g.gap, math.Abs(d.Hours()))
	}
}

// clusterCeiling returns the highest probability the cluster stage can
// give a cluster of these judged sums, among cands candidates, whatever
// its other members have of the new story: the judge leaves a cluster that
// cannot reach the threshold without looking at them. The features not
// yet known lie between bounds: ln of the members between ln n and ln
// cands, the share judged between n/cands and 1, the shares covered
// between 0 and 1, and the hours to the nearest member between 0 and those
// to the nearest judged.
func (m *model) clusterCeiling(g *clusterSums, cands int) float64 {
	lo := [numClusterFeatures]float64{0, 0, 0, math.Log(float64(g.n)), float64(g.n) / float64(max(cands, g.n)), 0, 0, 0}
	hi := [numClusterFeatures]float64{0, 0, 0, math.Log(float64(max(cands, g.n))), 1, 1, 1, math.Log1p(g.gap)}
	lo[0] = logit(g.sum / float64(g.n))
	lo[1], lo[2] = logit(g.top), math.Log(float64(g.n))
	hi[0], hi[1], hi[2] = lo[0], lo[1], lo[2]
	z := m.clusterBias
	for k, w := range m.cluster {
		z += max(w*lo[k], w*hi[k])
	}
	return 1 / (1 + math.Exp(-z))
}

// cover marks the terms of a, indexed in ix, that b has.
func cover(ix *termIndex, a, b *Facts) uint64 {
	var m uint64
	for j, t := range b.terms {
		if i, ok := ix.find(t); ok && meets(a.kinds[i], b.kinds[j]) {
			m |= 1 << uint(i)
		}
	}
	return m
}

// clusterFeatures describe a cluster to the model's cluster stage
// (model.clusterProbability), from the new story's facts a, weighed, and
// the sums of the cluster's candidates:
//
//  0. and 1. the log-odds of the mean and of the highest probability of
//     the pairs;
//  2. and 3. ln of the number of candidates judged, and of all the
//     cluster's candidates;
//  4. the share of its candidates judged (the rest share too little with
//     the new story);
//  5. and 6. the share of the new headline's weight, and of the new
//     story's names and numbers, that some candidate of the cluster has:
//     a version in other words shares one name with one version and
//     another with the next, while another event's story brings a name or
//     an amount that none of them has;
//  7. ln(1 + hours to the nearest candidate).
func clusterFeatures(a *Facts, g *clusterSums) [numClusterFeatures]float64 {
	var title, titleHave, names, namesHave float64
	for i, k := range a.kinds {
		if k&rounded != 0 {
			continue
		}
		w, have := float64(a.weights[i]), g.covered&(1<<uint(i)) != 0
		if k&inTitle != 0 {
			title += w
			if have {
				titleHave += w
			}
		}
		if k.base() != Word {
			names += w
			if have {
				namesHave += w
			}
		}
	}
	return [numClusterFeatures]float64{
		logit(g.sum / float64(g.n)),
		logit(g.top),
		math.Log(float64(g.n)),
		math.Log(float64(max(g.members, 1))),
		float64(g.n) / float64(max(g.members, g.n)),
		share(titleHave, title),
		share(namesHave, names),
		math.Log1p(g.gap),
	}
}

// logit returns the log-odds of p, bounded to ±9.2.
func logit(p float64) float64 {
	p = min(max(p, 1e-4), 1-1e-4)
	return math.Log(p / (1 - p))
}
