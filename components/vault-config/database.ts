/**
 * DatabaseSecretsEngine: Vault's database engine with its connections and the apps' roles (issue 21).
 */
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { DatabaseArgs, DatabasePlan, planDatabase, validateDatabaseArgs } from "../config/database";
import { ComponentPlan, TYPE_PREFIX, planOf } from "../config/errors";

/** DatabaseSecretsEngine's args: the database config and, when one Vault serves several clusters, the cluster. */
export interface DatabaseSecretsEngineArgs extends DatabaseArgs {
    /** This cluster's name (the platform's `cluster`): role names start with it. Default: none. */
    cluster?: string;
}

/** DatabaseSecretsEngine's plan: the pure plan and the connections' passwords (Inputs, kept secret). */
export interface DatabaseSecretsEnginePlan extends ComponentPlan<"DatabaseSecretsEngine"> {
    plan: DatabasePlan;
    passwords: pulumi.Input<string>[];
}

/** Plans DatabaseSecretsEngine's checked args (pure). */
export function planDatabaseSecretsEngine(args: DatabaseSecretsEngineArgs): DatabaseSecretsEnginePlan {
    return { planned: "DatabaseSecretsEngine", plan: planDatabase(args, args.cluster), passwords: args.connections.map((c) => c.password) };
}

/**
 * The database engine mounted at `path`, one connection per database (the admin password a secret,
 * `allowed_roles` exactly the roles that name it) and one Vault role per app: dynamic (a user per
 * lease, revocable even when it owns objects) or static (Vault rotates an existing user). Roles are
 * replaced, never left pointing at another connection.
 */
export class DatabaseSecretsEngine extends pulumi.ComponentResource {
    public readonly mount: vault.Mount;
    public readonly connections: Record<string, vault.database.SecretBackendConnection> = {};
    /** Each app's Vault role, by Vault role name. */
    public readonly roles: Record<string, vault.database.SecretBackendRole | vault.database.SecretBackendStaticRole> = {};
    /** The mount path (the VaultDynamicSecrets' `mount`). */
    public readonly path: string;

    /** `args`: checked and planned here once; or its plan (`planDatabaseSecretsEngine`, the platform's), used as it is. */
    constructor(name: string, args: DatabaseSecretsEngineArgs | DatabaseSecretsEnginePlan, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}DatabaseSecretsEngine`, name, {}, opts);
        const { plan, passwords } = planOf(
            "DatabaseSecretsEngine",
            args,
            (a: DatabaseSecretsEngineArgs) => validateDatabaseArgs(a, "database", { cluster: a.cluster }),
            planDatabaseSecretsEngine,
            this,
        );
        this.path = plan.path;
        this.mount = new vault.Mount(
            `${name}-db`,
            { path: plan.path, type: "database", description: "database credentials for VSO (pulumi-vault-vso)" },
            { parent: this },
        );
        for (const c of plan.connections) {
            this.connections[c.name] = new vault.database.SecretBackendConnection(
                `${name}-db-${c.name}`,
                {
                    backend: this.mount.path,
                    name: c.name,
                    pluginName: c.pluginName,
                    allowedRoles: c.allowedRoles,
                    verifyConnection: c.verifyConnection,
                    postgresql: { connectionUrl: c.connectionUrl, username: c.username, password: pulumi.secret(passwords[c.index]) },
                },
                // kept in Vault when removed from the stack: Vault needs the connection to revoke the leases
                // still out (unmounting revokes them; without it `destroy` failed with "failed to find entry
                // for connection" and left users in the database). Unmounting the engine removes it.
                { parent: this, additionalSecretOutputs: ["postgresql"], retainOnDelete: true },
            );
        }
        for (const r of plan.roles) {
            const conn = this.connections[r.connection];
            const ropts = { parent: this, dependsOn: [conn], deleteBeforeReplace: true };
            this.roles[r.roleName] =
                r.kind === "static"
                    ? new vault.database.SecretBackendStaticRole(
                          `${name}-db-role-${r.roleName}`,
                          { backend: this.mount.path, name: r.roleName, dbName: conn.name, username: r.username!, rotationPeriod: r.rotationPeriod },
                          ropts,
                      )
                    : new vault.database.SecretBackendRole(
                          `${name}-db-role-${r.roleName}`,
                          {
                              backend: this.mount.path,
                              name: r.roleName,
                              dbName: conn.name,
                              creationStatements: r.creationStatements!,
                              revocationStatements: r.revocationStatements,
                              defaultTtl: r.defaultTtl,
                              maxTtl: r.maxTtl,
                          },
                          ropts,
                      );
        }
        this.registerOutputs({ path: this.path });
    }
}
