// pulumi-resource-vault built here from the Terraform Vault provider and the
// Pulumi Terraform bridge, because the Go module proxy does not serve
// github.com/pulumi/pulumi-vault/provider. Resource and function tokens follow
// the naming of the @pulumi/vault npm package: vault_<module>_<rest> becomes
// vault:<module>/<restCamel>:<RestPascal>, with the modules listed in
// modules.txt (the sub-folders of @pulumi/vault); anything else goes to index.
package main

import (
	_ "embed"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-provider-vault/generated"
	vaultschema "github.com/hashicorp/terraform-provider-vault/schema"
	"github.com/hashicorp/terraform-provider-vault/vault"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
)

//go:embed modules.txt
var modulesTxt string

// Version is set with -ldflags "-X main.Version=...".
var Version = "0.0.0"

func camel(s string) string {
	parts := strings.Split(s, "_")
	var b strings.Builder
	for i, p := range parts {
		if p == "" {
			continue
		}
		if i == 0 {
			b.WriteString(p)
		} else {
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}

func pascal(s string) string {
	c := camel(s)
	if c == "" {
		return c
	}
	return strings.ToUpper(c[:1]) + c[1:]
}

// splitModule returns (module, rest) when name (without the vault_ prefix)
// starts with the module's letters, ignoring underscores, followed by '_'.
func splitModule(name string, modules []string) (string, string) {
	for _, m := range modules {
		i, j := 0, 0
		for i < len(name) && j < len(m) {
			if name[i] == '_' {
				i++
				continue
			}
			if name[i] != m[j] {
				break
			}
			i++
			j++
		}
		if j == len(m) && i < len(name) && name[i] == '_' && i+1 < len(name) {
			return m, name[i+1:]
		}
	}
	return "index", name
}

func main() {
	var modules []string
	for _, l := range strings.Split(modulesTxt, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			modules = append(modules, l)
		}
	}
	sort.Slice(modules, func(i, j int) bool { return len(modules[i]) > len(modules[j]) })

	p := vaultschema.NewProvider(vault.Provider())
	for name, r := range generated.DataSourceRegistry {
		p.RegisterDataSource(name, r)
	}
	for name, r := range generated.ResourceRegistry {
		p.RegisterResource(name, r)
	}
	tf := p.SchemaProvider()

	info := tfbridge.ProviderInfo{
		P:           shimv2.NewProvider(tf),
		Name:        "vault",
		Version:     Version,
		Resources:   map[string]*tfbridge.ResourceInfo{},
		DataSources: map[string]*tfbridge.DataSourceInfo{},
	}
	for name := range tf.ResourcesMap {
		mod, rest := splitModule(strings.TrimPrefix(name, "vault_"), modules)
		info.Resources[name] = &tfbridge.ResourceInfo{
			Tok: tokens.Type("vault:" + mod + "/" + camel(rest) + ":" + pascal(rest)),
		}
	}
	for name := range tf.DataSourcesMap {
		mod, rest := splitModule(strings.TrimPrefix(name, "vault_"), modules)
		fn := "get" + pascal(rest)
		info.DataSources[name] = &tfbridge.DataSourceInfo{
			Tok: tokens.ModuleMember("vault:" + mod + "/" + fn + ":" + fn),
		}
	}
	tfbridge.Main("vault", Version, info, []byte(`{"name":"vault","version":"`+Version+`"}`))
}
