/**
 * The component provider: serves `vault-vso:index:VaultSecretsPlatform` over Pulumi's provider
 * protocol. Started by the executable `pulumi-resource-vault-vso` next to this file, which the
 * Pulumi CLI runs for a program that lists this directory under `packages:` (or `plugins:`).
 */
import { componentProviderHost } from "@pulumi/pulumi/provider/experimental";
import { VaultSecretsPlatform } from "../components/platform";

componentProviderHost({ name: "vault-vso", dirname: __dirname.replace(/[\\/]lib[\\/]provider$/, "/provider"), components: [VaultSecretsPlatform] }).catch(
    (e: unknown) => {
        process.stderr.write(`vault-vso provider: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
    },
);
