// Wrapper main for building a real etcd (>= 3.5; currently 3.6.x) server for
// Weft's integration tests: kube-apiserver 1.34 needs etcd >= 3.5 and
// Debian 12 ships 3.4. Copy of go.etcd.io/etcd/server/v3/main.go
// (Apache-2.0, The etcd Authors), which is `package main` and so cannot be
// imported directly.

package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
