package main

// vault_kv_secret_v2 (vault:kv/secretV2:SecretV2), written here because the
// Terraform provider release served by the Go module proxy predates it. It covers
// what the components use: mount, name, data_json, cas, options,
// delete_all_versions, disable_read; computed path, data and metadata.

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/vault/api"
)

func kvSecretV2Resource() *schema.Resource {
	return &schema.Resource{
		Create: kvSecretV2Write,
		Update: kvSecretV2Write,
		Read:   kvSecretV2Read,
		Delete: kvSecretV2Delete,
		Importer: &schema.ResourceImporter{
			State: schema.ImportStatePassthrough,
		},
		Schema: map[string]*schema.Schema{
			"mount": {Type: schema.TypeString, Required: true, ForceNew: true,
				Description: "Path where the KV-V2 engine is mounted."},
			"name": {Type: schema.TypeString, Required: true, ForceNew: true,
				Description: "Full name of the secret below the mount."},
			"data_json": {Type: schema.TypeString, Optional: true, Sensitive: true,
				DiffSuppressFunc: func(_, old, new string, _ *schema.ResourceData) bool { return jsonEqual(old, new) },
				Description:      "JSON-encoded secret data to write."},
			"cas": {Type: schema.TypeInt, Optional: true,
				Description: "Check-and-set: only write if the current version matches."},
			"options": {Type: schema.TypeMap, Optional: true, Elem: &schema.Schema{Type: schema.TypeString},
				Description: "Options sent with the write request."},
			"delete_all_versions": {Type: schema.TypeBool, Optional: true,
				Description: "Delete all versions and metadata on destroy."},
			"disable_read": {Type: schema.TypeBool, Optional: true,
				Description: "Do not read the secret back from Vault (drift detection off)."},
			"path": {Type: schema.TypeString, Computed: true,
				Description: "Full API path of the secret (<mount>/data/<name>)."},
			"data": {Type: schema.TypeMap, Computed: true, Sensitive: true, Elem: &schema.Schema{Type: schema.TypeString},
				Description: "Secret data read from Vault, values as strings."},
			"metadata": {Type: schema.TypeMap, Computed: true, Elem: &schema.Schema{Type: schema.TypeString},
				Description: "Metadata of the current version (version, created_time, ...)."},
		},
	}
}

func jsonEqual(a, b string) bool {
	var x, y interface{}
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

func kvV2Paths(mount, name string) (data, metadata string) {
	mount = strings.Trim(mount, "/")
	name = strings.Trim(name, "/")
	return mount + "/data/" + name, mount + "/metadata/" + name
}

func kvSecretV2Write(d *schema.ResourceData, meta interface{}) error {
	client := meta.(*api.Client)
	dataPath, _ := kvV2Paths(d.Get("mount").(string), d.Get("name").(string))
	var data map[string]interface{}
	if s := d.Get("data_json").(string); s != "" {
		if err := json.Unmarshal([]byte(s), &data); err != nil {
			return fmt.Errorf("data_json is not a JSON object: %w", err)
		}
	}
	if data == nil {
		data = map[string]interface{}{}
	}
	options := map[string]interface{}{}
	for k, v := range d.Get("options").(map[string]interface{}) {
		options[k] = v
	}
	if v, ok := d.GetOk("cas"); ok {
		options["cas"] = v.(int)
	}
	body := map[string]interface{}{"data": data}
	if len(options) > 0 {
		body["options"] = options
	}
	if _, err := client.Logical().Write(dataPath, body); err != nil {
		return fmt.Errorf("error writing %s: %w", dataPath, err)
	}
	d.SetId(dataPath)
	return kvSecretV2Read(d, meta)
}

func kvSecretV2Read(d *schema.ResourceData, meta interface{}) error {
	client := meta.(*api.Client)
	id := d.Id()
	mount, name, ok := strings.Cut(id, "/data/")
	if !ok {
		return fmt.Errorf("invalid id %q, want <mount>/data/<name>", id)
	}
	_ = d.Set("mount", mount)
	_ = d.Set("name", name)
	_ = d.Set("path", id)
	if d.Get("disable_read").(bool) {
		return nil
	}
	secret, err := client.Logical().Read(id)
	if err != nil {
		return fmt.Errorf("error reading %s: %w", id, err)
	}
	if secret == nil || secret.Data == nil {
		d.SetId("")
		return nil
	}
	data, _ := secret.Data["data"].(map[string]interface{})
	if data == nil { // deleted version: metadata only
		d.SetId("")
		return nil
	}
	js, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if err := d.Set("data_json", string(js)); err != nil {
		return err
	}
	strData := map[string]string{}
	for k, v := range data {
		if s, ok := v.(string); ok {
			strData[k] = s
		} else {
			b, _ := json.Marshal(v)
			strData[k] = string(b)
		}
	}
	if err := d.Set("data", strData); err != nil {
		return err
	}
	md := map[string]string{}
	if m, ok := secret.Data["metadata"].(map[string]interface{}); ok {
		for k, v := range m {
			if v == nil {
				md[k] = ""
				continue
			}
			switch t := v.(type) {
			case string:
				md[k] = t
			default:
				b, _ := json.Marshal(t)
				md[k] = strings.Trim(string(b), `"`)
			}
		}
	}
	return d.Set("metadata", md)
}

func kvSecretV2Delete(d *schema.ResourceData, meta interface{}) error {
	client := meta.(*api.Client)
	dataPath, metaPath := kvV2Paths(d.Get("mount").(string), d.Get("name").(string))
	p := dataPath
	if d.Get("delete_all_versions").(bool) {
		p = metaPath
	}
	if _, err := client.Logical().Delete(p); err != nil {
		return fmt.Errorf("error deleting %s: %w", p, err)
	}
	return nil
}
