/**
 * Upgrading a stack made by an earlier version to this code, on the bed: the first `up` of the new code
 * replaces and deletes nothing in Vault or the cluster (renamed and regrouped components carry
 * `aliases`), and the drift check still reads the stack. Two origins: 0.1 (names before issue 11:
 * NamespaceVaultAccess, VsoNamespaceBinding, restartTargets) and the last commit with one
 * VaultNamespaceAccess per namespace (before the platform used one VaultNamespaceAccessSet, issue 23).
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineEvent, LocalWorkspace } from "@pulumi/pulumi/automation";
import { kubeRequest } from "../../ops/clients";
import { BedEnv, REPO, bedStackConfig, removeStack, requireBedOrSkip, runScript, startBed } from "./bed";

interface Origin {
    /** What the old code was. */
    label: string;
    commit: string;
    /** A component type only the old code's stack has. */
    oldType: string;
    /** The old code's name of the app's rolloutRestartTargets. */
    restartField: string;
    /** Prefix of this origin's mounts, namespace and stack (the two suites never share an object). */
    tag: string;
}

const ORIGINS: Origin[] = [
    { label: "0.1", commit: "25854a6", oldType: "vault-vso:index:VsoNamespaceBinding", restartField: "restartTargets", tag: "upg" },
    {
        label: "one VaultNamespaceAccess per namespace",
        commit: "56fee18",
        oldType: "vault-vso:index:VaultNamespaceAccess",
        restartField: "rolloutRestartTargets",
        tag: "upgb",
    },
];

for (const origin of ORIGINS) {
    upgradeSuite(origin);
}

function upgradeSuite(origin: Origin): void {
    const OLD_COMMIT = origin.commit;
    const STACK = `it-${origin.tag}-${process.pid}`;
    const APP = { name: `${origin.tag}-app`, namespace: `${origin.tag}-cnpg`, path: `${origin.tag}/app`, keys: ["k"], managed: true, refreshAfter: "60s" };

    describe(`integration: upgrade from ${origin.label} (${origin.commit}) keeps every resource on the bed`, function () {
        this.timeout(15 * 60 * 1000);
        let bed: BedEnv;
        let oldDir = "";

        before(function () {
            requireBedOrSkip(this);
            if (spawnSync("git", ["-C", REPO, "cat-file", "-e", `${OLD_COMMIT}^{commit}`]).status !== 0) {
                console.warn(`  [integration] skipped: commit ${OLD_COMMIT} is not in this clone's history (a shallow clone?)`);
                this.skip();
            }
            bed = startBed();
            oldDir = fs.mkdtempSync(path.join(os.tmpdir(), "pvv-old-"));
            const tar = execFileSync("git", ["-C", REPO, "archive", OLD_COMMIT, "components", "programs", "Pulumi.yaml", "package.json", "tsconfig.json"]);
            execFileSync("tar", ["-x", "-C", oldDir], { input: tar });
            fs.symlinkSync(path.join(REPO, "node_modules"), path.join(oldDir, "node_modules"));
        });

        after(async function () {
            if (bed) {
                const st = await LocalWorkspace.selectStack({ stackName: STACK, workDir: REPO }, { envVars: bed.env }).catch(() => undefined);
                await st?.destroy({ onOutput: () => undefined }).catch(() => undefined);
                await removeStack(bed, STACK);
            }
            if (oldDir) {
                fs.rmSync(oldDir, { recursive: true, force: true });
            }
        });

        /** The bed's config with this suite's own mounts (no restart of the bed needed). */
        function config(apps: unknown[], values: unknown) {
            const c = bedStackConfig(bed, apps, values);
            c["vault-vso-homelab:kv"] = { value: JSON.stringify({ path: `kv${origin.tag}`, protect: false }) };
            c["vault-vso-homelab:kubernetesAuth"] = { value: JSON.stringify({ path: `k8s${origin.tag}`, kubernetesHost: bed.kubeApi }) };
            return c;
        }

        it(`an up of the ${origin.label} program, then an up of this code: no replace, no delete, the same objects in the cluster`, async () => {
            const values = { [APP.name]: { k: "v1" } };
            const target = { rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }] };
            const oldApp = { ...APP, [origin.restartField]: target.rolloutRestartTargets };
            const oldStack = await LocalWorkspace.createStack({ stackName: STACK, workDir: oldDir }, { envVars: bed.env });
            await oldStack.setAllConfig(config([oldApp], values));
            const first = await oldStack.up({ onOutput: () => undefined });
            assert.strictEqual(first.summary.result, "succeeded");
            const oldTypes = Object.keys(
                (await oldStack.exportStack()).deployment.resources.reduce((m: Record<string, 1>, r: { type: string }) => ({ ...m, [r.type]: 1 }), {}),
            );
            assert.ok(oldTypes.includes(origin.oldType), `the old program made a ${origin.oldType}`);
            const vaultAuthBefore = await kubeRequest(bed.kube, "GET", `/apis/secrets.hashicorp.com/v1beta1/namespaces/${APP.namespace}/vaultauths/vault-auth`);
            assert.strictEqual(vaultAuthBefore.status, 200);

            const stack = await LocalWorkspace.selectStack({ stackName: STACK, workDir: REPO }, { envVars: bed.env });
            await stack.setAllConfig(config([{ ...APP, ...target }], values));
            const events: EngineEvent[] = [];
            const res = await stack.up({
                onEvent: (e) => {
                    events.push(e);
                },
                onOutput: () => undefined,
            });
            assert.strictEqual(res.summary.result, "succeeded");
            const ops = events
                .filter((e) => e.resourcePreEvent)
                .map((e) => `${e.resourcePreEvent!.metadata.op} ${e.resourcePreEvent!.metadata.type} ${e.resourcePreEvent!.metadata.urn}`);
            // (a default provider the 0.1 run registered without a version may be dropped: it is not a
            // resource of the user's, and every resource it served shows "same" below; where the language
            // host cannot run resource hooks, the new code guards the policies and roles with one
            // TakeoverClaimSet (from 0.1: created, Vault's objects being what the stack would write; from
            // the per-namespace code: its per-object TakeoverClaims give way to it, the first by alias):
            // bookkeeping records that hold nothing in Vault)
            const claim = /^(create pulumi-nodejs:dynamic\/pulumi-vault-vso:TakeoverClaim(Set)?|delete pulumi-nodejs:dynamic\/pulumi-vault-vso:TakeoverClaim) /;
            // a component of this package holds nothing (no Vault or cluster object): the per-namespace
            // components the 0.1 program had may give way to one VaultNamespaceAccessSet, whose children
            // are the old ones by alias ("same" below)
            const component = /^(create|delete) vault-vso:index:\w+ /;
            const destructive = ops.filter(
                (o) =>
                    /^(replace|delete|create-replacement|delete-replaced|create) /.test(o) &&
                    !/ pulumi:(pulumi:Stack|providers:[\w-]+) /.test(o) &&
                    !claim.test(o) &&
                    !component.test(o),
            );
            assert.deepStrictEqual(
                destructive,
                [],
                `the upgrade creates, replaces or deletes nothing (steps: ${[...new Set(ops.map((o) => o.split(" ").slice(0, 2).join(" ")))].join(", ")})`,
            );
            const changes = res.summary.resourceChanges ?? {};
            assert.strictEqual(changes.replace ?? 0, 0);
            assert.ok(ops.filter((o) => o.startsWith("same ")).length >= 20, "every resource was matched to its old self");
            for (const t of ["vault:index/policy:Policy", "vault:kubernetes/authBackendRole:AuthBackendRole"]) {
                const steps = ops.filter((o) => o.split(" ")[1] === t);
                assert.ok(steps.length > 0 && steps.every((o) => o.startsWith("same ")), `every ${t} is the old one, moved by alias: ${steps.join("; ")}`);
            }
            const newTypes = (await stack.exportStack()).deployment.resources.map((r: { type: string }) => r.type);
            assert.ok(
                newTypes.includes("vault-vso:index:VsoNamespaceAccess") && newTypes.includes("vault-vso:index:VaultNamespaceAccessSet"),
                "the stack now records the new names",
            );
            for (const gone of ["vault-vso:index:VsoNamespaceBinding", "vault-vso:index:NamespaceVaultAccess", "vault-vso:index:VaultNamespaceAccess"]) {
                assert.ok(!newTypes.includes(gone), `and not the old ${gone}`);
            }
            const vaultAuthAfter = await kubeRequest(bed.kube, "GET", `/apis/secrets.hashicorp.com/v1beta1/namespaces/${APP.namespace}/vaultauths/vault-auth`);
            assert.strictEqual(vaultAuthAfter.body.metadata.uid, vaultAuthBefore.body.metadata.uid, "the same VaultAuth object, never recreated");

            const drift = runScript(bed, "drift", ["--stack", STACK, "--cwd", REPO]);
            assert.strictEqual(drift.code, 0, `no drift after the upgrade: ${drift.out}\n${drift.err}`);
        });
    });
}
