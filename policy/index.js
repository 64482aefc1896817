// Entry of the vault-vso policy pack (`pulumi preview --policy-pack <this folder>`): in the published
// package the compiled rules (lib/policy/); in a checkout of the repository (policy/pack.ts present)
// the TypeScript sources, transpiled by ts-node without a type-check (npm test type-checks them).
const fs = require("fs");
const path = require("path");

const source = path.join(__dirname, "pack.ts");
const tsNode = (() => {
    try {
        return require.resolve("ts-node");
    } catch {
        return undefined; // e.g. installed from git without dev dependencies: the compiled pack, if built
    }
})();
if (fs.existsSync(source) && tsNode) {
    require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
    require(source);
} else {
    require(path.join(__dirname, "..", "lib", "policy", "pack.js"));
}
