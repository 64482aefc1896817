/**
 * A kubeconfig read (the cluster a program's Kubernetes provider talks to): its server, CA and credentials.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";

/** The cluster part of a kubeconfig context: where the API server is and how to trust it. */
export interface KubeCluster {
    server: string;
    /** PEM of the CA that signed the API server's certificate, when the kubeconfig has one. */
    caPem?: string;
    insecure: boolean;
}

/**
 * Reads the cluster of a kubeconfig's context (pure apart from reading a CA file the kubeconfig
 * names). `text` is the kubeconfig's contents; `context` defaults to its current context.
 */
export function kubeClusterOf(text: string, context?: string): KubeCluster {
    const doc = yaml.load(text) as Record<string, any> | undefined;
    if (!doc || typeof doc !== "object") {
        throw new Error("the kubeconfig is empty or not YAML");
    }
    const ctxName = context ?? doc["current-context"];
    const ctx = (doc.contexts ?? []).find((c: any) => c?.name === ctxName)?.context ?? (context ? undefined : doc.contexts?.[0]?.context);
    if (!ctx) {
        throw new Error(`the kubeconfig has no context ${JSON.stringify(ctxName ?? "")}`);
    }
    const cluster = (doc.clusters ?? []).find((c: any) => c?.name === ctx.cluster)?.cluster;
    if (!cluster || typeof cluster.server !== "string") {
        throw new Error(`the kubeconfig's cluster ${JSON.stringify(ctx.cluster)} has no server`);
    }
    let caPem: string | undefined;
    if (typeof cluster["certificate-authority-data"] === "string") {
        caPem = Buffer.from(cluster["certificate-authority-data"], "base64").toString("utf8");
    } else if (typeof cluster["certificate-authority"] === "string") {
        caPem = fs.readFileSync(cluster["certificate-authority"], "utf8");
    }
    return { server: cluster.server.replace(/\/+$/, ""), caPem, insecure: cluster["insecure-skip-tls-verify"] === true };
}

/** The kubeconfig the Kubernetes provider uses when none is given: $KUBECONFIG (first file), else ~/.kube/config. */
export function ambientKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
    const first = env.KUBECONFIG?.split(path.delimiter).find((p) => p.length > 0);
    return first ?? path.join(os.homedir(), ".kube", "config");
}

/** Kubeconfig contents from an argument that is either contents or a path (like the provider's `kubeconfig`). */
export function kubeconfigText(contentsOrPath: string): string {
    const looksLikeContents = /\n/.test(contentsOrPath) || /^\s*[{]/.test(contentsOrPath) || /apiVersion\s*:/.test(contentsOrPath);
    return looksLikeContents ? contentsOrPath : fs.readFileSync(contentsOrPath, "utf8");
}
