// Package cluster groups near-duplicate stories — one event rewritten by
// several outlets, one wire story carried by thirty sites — into clusters.
//
// Its place on the road is between ingest and the outbox: once the store has
// said which stories are new, the runtime signs each one (Sign) and asks the
// Index which cluster it belongs to (Assign). The first story of a cluster is
// alerted; later members join its cluster and get no alert of their own. A
// cluster's id is the id of its first story, so the store can keep it per
// story and the runtime can rebuild the Index after a restart (Add).
//
// A Signature is a MinHash of the word shingles of a story's title and
// summary. The Index keeps the stories of a recent window (72 hours by
// default) in LSH buckets over bands of the signatures, so that Assign looks
// only at stories that share a bucket, and then verifies each candidate with
// the whole signature against the threshold.
//
// The package is pure: no I/O, no clock. Times are passed in.
package cluster
