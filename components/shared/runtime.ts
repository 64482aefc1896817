/** Whether this run is under unit-test mocks. */
import * as pulumi from "@pulumi/pulumi";

/**
 * True under `pulumi.runtime.setMocks` (unit tests): no engine, no server to ask, no hooks to register.
 * The one place that tells; everything that behaves differently under mocks asks it.
 */
export function underMocks(): boolean {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks") as { MockMonitor: new (...a: never[]) => unknown };
    return pulumi.runtime.getMonitor() instanceof MockMonitor;
}
