/**
 * Test program for the in-cluster suite: VaultHelmInstall alone, from a local chart, in the mode the
 * stack config names. Vault stays sealed (initialising and unsealing are not this component's job yet).
 */
import * as pulumi from "@pulumi/pulumi";
import { VaultHelmInstall, VaultMode } from "../../../../components";

const config = new pulumi.Config();
const vault = new VaultHelmInstall("vault", {
    mode: config.require("mode") as VaultMode,
    namespace: config.require("namespace"),
    // the chart's ClusterRoleBinding is named after the release: two releases called "vault" collide
    releaseName: config.get("releaseName"),
    chartPath: config.require("chartPath"),
    values: config.requireObject<Record<string, unknown>>("values"),
});
export const namespace = vault.namespace;
export const address = vault.address;
