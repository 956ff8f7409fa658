// Package cluster groups near-duplicate stories — one event rewritten by
// several outlets, one wire story carried by thirty sites — into clusters.
//
// Its place on the road is between ingest and the outbox: once the store has
// said which stories are new, the runtime signs each one (Sign), looks up the
// stored stories filed under the signature's Keys within the window, and asks
// a Judge which of them, if any, the story is one event with (Best). The
// first story of a cluster is alerted; later members join its cluster and get
// no alert of their own. A cluster's id is the id of its first story, so the
// store keeps it per story; the store also keeps each story's signature and
// keys, so that nothing is rebuilt at start and every process that shares the
// store decides alike.
//
// A Signature is a MinHash of the word shingles of a story's title and
// summary. Its keys are the whole minima of its first hash functions and the
// hash of a long headline: stories that share one are candidates, each then
// verified with the whole signature against the threshold. That finds copies
// of one text. Facts find one event in other words: the names, numbers and
// words of a story (Extract), weighed by how rare the stored stories make
// them (Weigh, with counts the store keeps), filed under the rarest of them
// too (Facts.Keys), and judged by a small same-event model shipped with
// the package (model.bin, fitted to hand-labelled events and near misses):
// their weighted overlap, how much of each headline the other story has,
// how alike their words are in meaning (word vectors shipped with the
// package, vectors.bin, summed once per story into a gist kept with its
// facts), the time between them and the headline words one lacks. A story
// joins a cluster by its facts when the model's cluster stage, which reads
// the pairs' probabilities together with what the cluster's candidates have
// of the new story between them, finds it one more version of the
// cluster's event; not by the closest story alone (Judge.Decide). Shared says which names and numbers made two stories
// one.
//
// The package is pure: no I/O, no clock. Times are passed in.
package cluster
