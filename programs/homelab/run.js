// Entry point Pulumi runs (Pulumi.yaml `main`). The program is TypeScript; it is transpiled without
// a type-check at every `pulumi up`/`preview` (the type-check runs once in `npm test`/`npm run build`),
// which halves the fixed cost of each run (bench/results/peer-profile.md).
require("ts-node").register({ transpileOnly: true, project: require("path").join(__dirname, "..", "..", "tsconfig.json") });
module.exports = require("./index.ts");
