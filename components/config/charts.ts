/**
 * Helm charts (pure): where a chart comes from and the release name's rules.
 */
import * as fs from "fs";
import * as path from "path";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ValidationProblem, checkKubernetesName } from "./validate";

/** Helm's longest release name (Helm refuses a longer one at install, after the preview). */
export const HELM_RELEASE_NAME_MAX = 53;

/** Checks a Helm release name (pure): an RFC 1123 label of at most 53 characters. */
export function checkReleaseName(field: string, value: unknown): ValidationProblem[] {
    const problems = checkKubernetesName(field, value, "label");
    if (problems.length === 0 && typeof value === "string" && value.length > HELM_RELEASE_NAME_MAX) {
        return [
            {
                field,
                message: `${JSON.stringify(value)} is ${value.length} characters long; Helm allows at most ${HELM_RELEASE_NAME_MAX} for a release name`,
            },
        ];
    }
    return problems;
}

/** Where Helm takes a chart from: a local path, or name + version + repository (pure). */
export function chartSource(
    name: string,
    defaults: { version: string; repo: string },
    args: { chartPath?: string; chartVersion?: pulumi.Input<string>; repository?: pulumi.Input<string> },
): Pick<k8s.helm.v3.ReleaseArgs, "chart" | "version" | "repositoryOpts"> {
    if (args.chartPath !== undefined) {
        return { chart: args.chartPath };
    }
    const repo = args.repository ?? defaults.repo;
    if (typeof repo === "string" && repo.startsWith("oci://")) {
        return { chart: `${repo.replace(/\/+$/, "")}/${name}`, version: args.chartVersion ?? defaults.version };
    }
    return { chart: name, version: args.chartVersion ?? defaults.version, repositoryOpts: { repo } };
}

/** Checks a chart path argument (pure apart from looking at the file system). */
export function checkChartPath(field: string, p: unknown): ValidationProblem[] {
    if (p === undefined) {
        return [];
    }
    if (typeof p !== "string" || p.trim() === "") {
        return [{ field, message: "must be a path to a chart directory or .tgz" }];
    }
    if (!fs.existsSync(p)) {
        return [{ field, message: `${JSON.stringify(p)} does not exist: give the chart's directory (the one holding Chart.yaml) or its .tgz` }];
    }
    if (fs.statSync(p).isDirectory() && !fs.existsSync(path.join(p, "Chart.yaml"))) {
        return [{ field, message: `${JSON.stringify(p)} has no Chart.yaml: give the chart's own directory` }];
    }
    return [];
}
