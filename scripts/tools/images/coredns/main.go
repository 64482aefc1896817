// Command coredns is a minimal CoreDNS for the local test cluster, built by
// scripts/tools/build-images.sh against github.com/coredns/coredns@$COREDNS_VERSION.
//
// Instead of blank-importing github.com/coredns/coredns/core/plugin (which links every
// plugin, including the cloud DNS providers), it links only the plugins a cluster DNS
// needs and sets dnsserver.Directives to them, the documented way to trim CoreDNS
// ("Compile Time Enabling or Disabling Plugins"). Not linked, so not usable in a Corefile:
// forward, loop, rewrite, etc. (the cluster has no upstream DNS anyway).
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind" // lets a host-run CoreDNS listen on chosen addresses only
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/metrics" // "prometheus"; linked by cache anyway
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/whoami"
)

// directives must follow the order of CoreDNS's plugin.cfg (the order in which a query
// passes through the plugins); build-images.sh checks it against the module's plugin.cfg.
var directives = []string{
	"reload",
	"bind",
	"ready",
	"health",
	"prometheus",
	"errors",
	"log",
	"loadbalance",
	"cache",
	"hosts",
	"kubernetes",
	"whoami",
}

func init() {
	dnsserver.Directives = directives
}

func main() {
	coremain.Run()
}
