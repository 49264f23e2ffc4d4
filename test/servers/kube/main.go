// Wrapper main for building a real kube-apiserver for Weft's integration
// tests. Copy of k8s.io/kubernetes/cmd/kube-apiserver/apiserver.go
// (Apache-2.0, The Kubernetes Authors); that file is `package main` so it
// cannot be imported directly.

package main

import (
	"os"
	_ "time/tzdata" // for timeZone support in CronJob

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // for JSON log format registration
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // load all the prometheus client-go plugins
	_ "k8s.io/component-base/metrics/prometheus/version"  // for version metric registration
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	command := app.NewAPIServerCommand()
	code := cli.Run(command)
	os.Exit(code)
}
