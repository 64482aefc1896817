/**
 * DatabaseSecretsEngine: Vault's database engine with its connections and the apps' roles (issue 21).
 */
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { DatabaseArgs, DatabasePlan, planDatabase, validateDatabaseArgs } from "../config/database";
import { ComponentPlan, TYPE_PREFIX, planOf } from "../config/errors";
import { AdoptedDatabaseConnection } from "../config/adopt";

/** What of the engine exists already (a hand-built setup, `npm run adopt`): imported, never deleted by the stack. */
export interface AdoptedDatabaseEngine {
    /** The mount exists: import it. Default `false`. */
    mount?: boolean;
    /** Connections that exist: imported, their `allowed_roles` kept as found. Default none. */
    connections?: AdoptedDatabaseConnection[];
    /** Vault names of roles that exist: imported. Default none. */
    roles?: string[];
}

/** DatabaseSecretsEngine's args: the database config and, when one Vault serves several clusters, the cluster. */
export interface DatabaseSecretsEngineArgs extends DatabaseArgs {
    /** This cluster's name (the platform's `cluster`): role names start with it. Default: none. */
    cluster?: string;
    /** What exists already and is imported (the platform's `adopted`). Default: nothing. */
    adopted?: AdoptedDatabaseEngine;
}

/** DatabaseSecretsEngine's plan: the pure plan and the connections' passwords (Inputs, kept secret). */
export interface DatabaseSecretsEnginePlan extends ComponentPlan<"DatabaseSecretsEngine"> {
    plan: DatabasePlan;
    passwords: pulumi.Input<string>[];
    adopted?: AdoptedDatabaseEngine;
}

/** Plans DatabaseSecretsEngine's checked args (pure). */
export function planDatabaseSecretsEngine(args: DatabaseSecretsEngineArgs): DatabaseSecretsEnginePlan {
    return {
        planned: "DatabaseSecretsEngine",
        plan: planDatabase(args, args.cluster),
        passwords: args.connections.map((c) => c.password),
        ...(args.adopted ? { adopted: args.adopted } : {}),
    };
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
        const { plan, passwords, adopted } = planOf(
            "DatabaseSecretsEngine",
            args,
            (a: DatabaseSecretsEngineArgs) => validateDatabaseArgs(a, "database", { cluster: a.cluster }),
            planDatabaseSecretsEngine,
            this,
        );
        this.path = plan.path;
        // adopted: imported as it is (its description too) and never deleted by the stack
        this.mount = new vault.Mount(
            `${name}-db`,
            { path: plan.path, type: "database", description: "database credentials for VSO (pulumi-vault-vso)" },
            { parent: this, ...(adopted?.mount ? { import: plan.path, retainOnDelete: true, ignoreChanges: ["description"] } : {}) },
        );
        for (const c of plan.connections) {
            const found = (adopted?.connections ?? []).find((x) => x.name === c.name);
            this.connections[c.name] = this.connection(name, plan, c, passwords[c.index], found);
        }
        for (const r of plan.roles) {
            this.roles[r.roleName] = this.role(name, plan, r, (adopted?.roles ?? []).includes(r.roleName));
        }
        this.registerOutputs({ path: this.path });
    }

    /** One connection (the password a secret); an adopted one imported, its allowed_roles kept as found. */
    private connection(
        name: string,
        plan: DatabasePlan,
        c: DatabasePlan["connections"][number],
        password: pulumi.Input<string>,
        found: AdoptedDatabaseConnection | undefined,
    ): vault.database.SecretBackendConnection {
        return new vault.database.SecretBackendConnection(
            `${name}-db-${c.name}`,
            {
                backend: this.mount.path,
                name: c.name,
                pluginName: c.pluginName,
                // adopted: the roles it allowed (others may still use it) and the ones planned since (a role
                // added later for another namespace is allowed too); the convention step narrows them
                allowedRoles: found ? [...found.allowedRoles, ...c.allowedRoles.filter((r) => !found.allowedRoles.includes(r))] : c.allowedRoles,
                verifyConnection: c.verifyConnection,
                // adopted: the settings found beside the package's, kept (else the up would reset them);
                // not password_policy, password_authentication, disable_escaping: the provider built here
                // cannot write them (PROVIDER_CANNOT_WRITE; adopt says the rewrite may reset them)
                ...(found?.rootRotationStatements !== undefined ? { rootRotationStatements: found.rootRotationStatements } : {}),
                postgresql: {
                    connectionUrl: c.connectionUrl,
                    username: c.username,
                    password: pulumi.secret(password),
                    ...(found?.usernameTemplate !== undefined ? { usernameTemplate: found.usernameTemplate } : {}),
                    ...(c.maxOpenConnections !== undefined ? { maxOpenConnections: c.maxOpenConnections } : {}),
                    ...(c.maxIdleConnections !== undefined ? { maxIdleConnections: c.maxIdleConnections } : {}),
                    ...(c.maxConnectionLifetime !== undefined ? { maxConnectionLifetime: c.maxConnectionLifetime } : {}),
                },
            },
            // kept in Vault when removed from the stack: Vault needs the connection to revoke the leases
            // still out (unmounting revokes them; without it `destroy` failed with "failed to find entry
            // for connection" and left users in the database). Unmounting the engine removes it.
            // Adopted: imported; Vault never returns the password, so the first up writes it again.
            {
                parent: this,
                additionalSecretOutputs: ["postgresql"],
                retainOnDelete: true,
                ...(found ? { import: `${plan.path}/config/${c.name}` } : {}),
            },
        );
    }

    /** One app's role, dynamic or static; an adopted one imported and never deleted by the stack. */
    private role(
        name: string,
        plan: DatabasePlan,
        r: DatabasePlan["roles"][number],
        imported: boolean,
    ): vault.database.SecretBackendRole | vault.database.SecretBackendStaticRole {
        const conn = this.connections[r.connection];
        const ropts = {
            parent: this,
            dependsOn: [conn],
            deleteBeforeReplace: true,
            ...(imported ? { import: `${plan.path}/${r.kind === "static" ? "static-roles" : "roles"}/${r.roleName}`, retainOnDelete: true } : {}),
        };
        if (r.kind === "static") {
            return new vault.database.SecretBackendStaticRole(
                `${name}-db-role-${r.roleName}`,
                {
                    backend: this.mount.path,
                    name: r.roleName,
                    dbName: conn.name,
                    username: r.username!,
                    rotationPeriod: r.rotationPeriod,
                    ...(r.rotationStatements ? { rotationStatements: r.rotationStatements } : {}),
                },
                ropts,
            );
        }
        return new vault.database.SecretBackendRole(
            `${name}-db-role-${r.roleName}`,
            {
                backend: this.mount.path,
                name: r.roleName,
                dbName: conn.name,
                creationStatements: r.creationStatements!,
                revocationStatements: r.revocationStatements,
                ...(r.renewStatements ? { renewStatements: r.renewStatements } : {}),
                ...(r.rollbackStatements ? { rollbackStatements: r.rollbackStatements } : {}),
                defaultTtl: r.defaultTtl,
                maxTtl: r.maxTtl,
            },
            ropts,
        );
    }
}
