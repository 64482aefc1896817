// pulumi-resource-vault built here from the Terraform Vault provider and the
// Pulumi Terraform bridge, because the Go module proxy does not serve
// github.com/pulumi/pulumi-vault/provider. Each Terraform resource/data source
// gets the token that the @pulumi/vault npm package uses for it (tokens.txt,
// made by tokens.sh); names it cannot match get vault:<module>/<name>:<Name>.
package main

import (
	_ "embed"
	"strings"

	"github.com/hashicorp/terraform-provider-vault/generated"
	vaultschema "github.com/hashicorp/terraform-provider-vault/schema"
	"github.com/hashicorp/terraform-provider-vault/vault"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
)

//go:embed tokens.txt
var tokensTxt string

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

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

type tok struct{ full, mod, name string } // name lower-cased, without "get" for functions

func parseTokens(fn bool) []tok {
	var out []tok
	for _, l := range strings.Split(tokensTxt, "\n") {
		l = strings.TrimSpace(l)
		parts := strings.Split(l, ":")
		if len(parts) != 3 || parts[0] != "vault" {
			continue
		}
		mod, _, _ := strings.Cut(parts[1], "/")
		name := parts[2]
		isFn := strings.HasPrefix(name, "get") && name[:1] == strings.ToLower(name[:1])
		if isFn != fn {
			continue
		}
		if fn {
			name = strings.TrimPrefix(name, "get")
		}
		out = append(out, tok{l, strings.ToLower(mod), strings.ToLower(name)})
	}
	return out
}

// match finds the token for Terraform name tf (e.g. vault_kubernetes_auth_backend_role):
// first <module><name> == name without vault_ and underscores, then index names, then
// tokens whose module starts and whose name ends the Terraform name (overlapping).
func match(tf string, toks []tok) string {
	s := strings.ReplaceAll(strings.TrimPrefix(tf, "vault_"), "_", "")
	for _, t := range toks {
		if t.mod+t.name == s {
			return t.full
		}
	}
	for _, t := range toks {
		if t.mod == "index" && t.name == s {
			return t.full
		}
	}
	found := ""
	for _, t := range toks {
		if t.mod != "index" && strings.HasPrefix(s, t.mod) && strings.HasSuffix(s, t.name) &&
			len(t.mod)+len(t.name) >= len(s) {
			if found != "" {
				return "" // ambiguous
			}
			found = t.full
		}
	}
	return found
}

func main() {
	p := vaultschema.NewProvider(vault.Provider())
	for name, r := range generated.DataSourceRegistry {
		p.RegisterDataSource(name, r)
	}
	for name, r := range generated.ResourceRegistry {
		p.RegisterResource(name, r)
	}
	if _, ok := p.SchemaProvider().ResourcesMap["vault_kv_secret_v2"]; !ok {
		p.RegisterResource("vault_kv_secret_v2", kvSecretV2Resource())
	}
	tf := p.SchemaProvider()

	info := tfbridge.ProviderInfo{
		P:           shimv2.NewProvider(tf),
		Name:        "vault",
		Version:     Version,
		Resources:   map[string]*tfbridge.ResourceInfo{},
		DataSources: map[string]*tfbridge.DataSourceInfo{},
	}
	resToks, fnToks := parseTokens(false), parseTokens(true)
	for name := range tf.ResourcesMap {
		t := match(name, resToks)
		if t == "" {
			n := camel(strings.TrimPrefix(name, "vault_"))
			t = "vault:index/" + n + ":" + upper(n)
		}
		info.Resources[name] = &tfbridge.ResourceInfo{Tok: tokens.Type(t)}
	}
	for name := range tf.DataSourcesMap {
		t := match(name, fnToks)
		if t == "" {
			n := "get" + upper(camel(strings.TrimPrefix(name, "vault_")))
			t = "vault:index/" + n + ":" + n
		}
		info.DataSources[name] = &tfbridge.DataSourceInfo{Tok: tokens.ModuleMember(t)}
	}
	// Like @pulumi/vault: a string input called "name" is optional and auto-named.
	info.SetAutonaming(255, "-")
	tfbridge.Main("vault", Version, info, []byte(`{"name":"vault","version":"`+Version+`"}`))
}
