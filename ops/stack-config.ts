/**
 * Reading a Pulumi project's name and writing a stack's config file (Pulumi.<stack>.yaml) without
 * losing what is in it: its secrets salt and other namespaces' config are kept.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

/** The directory of the Pulumi project that holds `dir` (the nearest Pulumi.yaml at or above it). */
export function projectDirOf(dir: string): string {
    for (let d = path.resolve(dir); ; d = path.dirname(d)) {
        if (fs.existsSync(path.join(d, "Pulumi.yaml"))) {
            return d;
        }
        if (path.dirname(d) === d) {
            throw new Error(`no Pulumi.yaml in ${dir} or above`);
        }
    }
}

/** The project's name (Pulumi.yaml `name`). */
export function projectOf(dir: string): string {
    const doc = yaml.load(fs.readFileSync(path.join(projectDirOf(dir), "Pulumi.yaml"), "utf8")) as { name?: unknown };
    if (typeof doc?.name !== "string" || !doc.name) {
        throw new Error(`${path.join(projectDirOf(dir), "Pulumi.yaml")} has no name`);
    }
    return doc.name;
}

/** The stack's config file: Pulumi.<stack>.yaml next to Pulumi.yaml (`org/project/stack` → `stack`). */
export function stackConfigFile(dir: string, stack: string): string {
    return path.join(projectDirOf(dir), `Pulumi.${stack.split("/").pop()}.yaml`);
}

/**
 * The stack config file's text with `config` set under the project's namespace (pure): every other
 * key of the file (encryptionsalt, secretsprovider, other namespaces' config) is kept. Returns a
 * refusal instead when the file already holds config of this project and `force` is not given.
 */
export function mergedStackConfig(
    existing: string | undefined,
    project: string,
    config: Record<string, unknown>,
    force: boolean,
): { text: string } | { refusal: string } {
    const doc = ((existing ? yaml.load(existing) : undefined) ?? {}) as { config?: Record<string, unknown> } & Record<string, unknown>;
    const current = doc.config ?? {};
    const mine = Object.keys(current).filter((k) => k.startsWith(`${project}:`));
    if (mine.length && !force) {
        return {
            refusal: `the stack already has config of ${project} (${mine.join(", ")}): adopt writes a new stack's config. Give a new --stack, or --force to replace those keys`,
        };
    }
    const kept = Object.fromEntries(Object.entries(current).filter(([k]) => !k.startsWith(`${project}:`)));
    const next = { ...doc, config: { ...kept, ...Object.fromEntries(Object.entries(config).map(([k, v]) => [`${project}:${k}`, v])) } };
    return { text: yaml.dump(next, { lineWidth: -1, noRefs: true, sortKeys: false }) };
}

/**
 * Writes `config` into the stack's config file (mode 0600), or only checks that it may when `config`
 * is undefined. Returns a refusal message, or undefined when written (or writable).
 */
export function writeStackConfig(file: string, project: string, config: Record<string, unknown> | undefined, force: boolean): string | undefined {
    const existing = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    const merged = mergedStackConfig(existing, project, config ?? {}, force);
    if ("refusal" in merged) {
        return merged.refusal;
    }
    if (config !== undefined) {
        const tmp = `${file}.adopt-${process.pid}`;
        fs.writeFileSync(tmp, merged.text, { mode: 0o600 });
        fs.renameSync(tmp, file);
    }
    return undefined;
}
