// Package deploy holds Marquee's deployment files: the container image
// (Dockerfile), a clustered stack for one machine (compose.yaml) and
// Kubernetes manifests (k8s/); README.md explains them. It has no code of
// its own: its tests parse every file and check what the binary and the
// orchestrators rely on, so a broken manifest fails `go test`.
package deploy
