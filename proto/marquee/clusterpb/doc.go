// Package clusterpb holds the protobuf messages that cross Marquee cluster
// nodes (user grains, singleton keepalives), generated from cluster.proto
// by `make proto`. Only actors/ uses it, at the edge of its grains.
package clusterpb
