/**
 * Copying a KV v2 tree from one Vault to another (issue 9: from a dev-mode Vault to the durable one).
 * Values are held in memory only while one secret is copied; reports and errors carry paths and key
 * counts, never a value. Only each secret's current version is copied (not its history).
 */
import { sanitizeText, vaultErrors, vaultRequest } from "./clients";

/** One end of the copy. */
export interface KvEnd {
    addr: string;
    token: string;
    /** KV v2 mount path. */
    mount: string;
}

export interface KvCopyOptions {
    from: KvEnd;
    to: KvEnd;
    /** Copy only the tree under this path (relative to the mount). Default: the whole mount. */
    prefix?: string;
    /** Write a new version where the target already has the path. Default false: such paths are skipped. */
    overwrite?: boolean;
    /** List what would be copied; write nothing. Default false. */
    dryRun?: boolean;
    /** Progress, one line per path (no values). */
    progress?: (line: string) => void;
}

export interface KvCopyReport {
    copied: { path: string; keys: number }[];
    skipped: { path: string; why: string }[];
    failed: { path: string; why: string }[];
}

/** A KV error with the fix; nothing of a value in it. */
export class KvCopyError extends Error {}

function mountPath(m: string): string {
    return m.replace(/^\/+|\/+$/g, "");
}

async function call(end: KvEnd, method: string, path: string, body?: unknown) {
    try {
        return await vaultRequest(end.addr, end.token, method, path, body);
    } catch (e) {
        throw new KvCopyError(`cannot reach Vault at ${end.addr}: ${sanitizeText((e as Error).message)}`);
    }
}

/** Every secret path under `prefix` (relative to the mount), depth first, sorted. */
export async function listKvTree(end: KvEnd, prefix = ""): Promise<string[]> {
    const base = prefix.replace(/^\/+/, "").replace(/\/?$/, prefix ? "/" : "");
    // GET ?list=true is Vault's LIST (some HTTP stacks refuse the LIST method)
    const r = await call(end, "GET", `${mountPath(end.mount)}/metadata/${base}?list=true`);
    if (r.status === 404) {
        return [];
    }
    if (r.status === 403) {
        throw new KvCopyError(
            `the token for ${end.addr} cannot list ${mountPath(end.mount)}/metadata/${base} (permission denied): it needs list on the metadata and read/create on the data`,
        );
    }
    if (r.status !== 200) {
        throw new KvCopyError(
            `listing ${mountPath(end.mount)}/metadata/${base} at ${end.addr} failed: ${sanitizeText(vaultErrors(r))} (is ${mountPath(end.mount)} a KV v2 mount?)`,
        );
    }
    const out: string[] = [];
    for (const k of ((r.body?.data?.keys ?? []) as string[]).sort()) {
        if (k.endsWith("/")) {
            out.push(...(await listKvTree(end, `${base}${k}`)));
        } else {
            out.push(`${base}${k}`);
        }
    }
    return out;
}

/** Copies each secret's current version from `from` to `to`. Never prints or returns a value. */
export async function copyKvTree(o: KvCopyOptions): Promise<KvCopyReport> {
    const report: KvCopyReport = { copied: [], skipped: [], failed: [] };
    const fromMount = mountPath(o.from.mount);
    const toMount = mountPath(o.to.mount);
    const target = await call(o.to, "GET", `sys/mounts`);
    if (target.status === 200 && !target.body?.data?.[`${toMount}/`]) {
        throw new KvCopyError(
            `the target Vault ${o.to.addr} has no mount ${toMount}: run pulumi up of the durable stack first (it creates the KV v2 mount), or give --to-mount`,
        );
    }
    let paths = await listKvTree(o.from, o.prefix ?? "");
    const leaf = (o.prefix ?? "").replace(/^\/+|\/+$/g, "");
    if (!paths.length && leaf && (await call(o.from, "GET", `${fromMount}/metadata/${leaf}`)).status === 200) {
        paths = [leaf]; // --prefix names one secret
    }
    for (const p of paths) {
        const src = await call(o.from, "GET", `${fromMount}/data/${p}`);
        const data = src.body?.data?.data as Record<string, unknown> | null | undefined;
        if (src.status !== 200 || !data) {
            report.skipped.push({ path: p, why: src.status === 404 ? "its current version is deleted or destroyed" : `reading it failed: HTTP ${src.status}` });
            continue;
        }
        const exists = (await call(o.to, "GET", `${toMount}/metadata/${p}`)).status === 200;
        if (exists && !o.overwrite) {
            report.skipped.push({ path: p, why: "the target already has it (--overwrite writes a new version)" });
            continue;
        }
        if (!o.dryRun) {
            const w = await call(o.to, "POST", `${toMount}/data/${p}`, { data });
            if (w.status !== 200 && w.status !== 204) {
                report.failed.push({ path: p, why: `writing it failed: ${sanitizeText(vaultErrors(w))}` });
                continue;
            }
        }
        report.copied.push({ path: p, keys: Object.keys(data).length });
        o.progress?.(`${o.dryRun ? "would copy" : "copied"} ${fromMount}/${p} (${Object.keys(data).length} keys)`);
    }
    return report;
}

/** The report as text (pure): paths and key counts only. */
export function formatKvCopyReport(r: KvCopyReport, dryRun = false): string {
    const lines = [`${dryRun ? "would copy" : "copied"} ${r.copied.length} secret(s), skipped ${r.skipped.length}, failed ${r.failed.length}`];
    lines.push(...r.skipped.map((s) => `  skipped ${s.path}: ${s.why}`));
    lines.push(...r.failed.map((s) => `  FAILED ${s.path}: ${s.why}`));
    return lines.join("\n");
}
