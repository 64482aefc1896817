// ESLint (flat config) with typescript-eslint; formatting is Prettier's (see .prettierrc.json).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["lib/**", "node_modules/**", ".bed/**", ".sandbox/**", "**/*.d.ts"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        rules: {
            // YAML config and cluster objects arrive untyped; `any` is kept at those edges on purpose
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
            // Pulumi components are constructed for their side effect (registering resources)
            "no-new": "off",
        },
    },
    {
        // benchmark scripts: measuring code, loaded on demand
        files: ["bench/**/*.ts"],
        rules: { "@typescript-eslint/no-require-imports": "off", "@typescript-eslint/no-unused-vars": "warn" },
    },
    {
        // plain CommonJS entry points (programs/*/run.js)
        files: ["**/*.js"],
        languageOptions: { sourceType: "commonjs", globals: { require: "readonly", module: "writable", __dirname: "readonly" } },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
    {
        // the library: small functions, and nothing from the ops layer or the Automation API
        files: ["components/**/*.ts"],
        rules: {
            "max-lines-per-function": ["error", { max: 60, skipBlankLines: true, skipComments: true }],
            "no-restricted-imports": ["error", {
                patterns: [
                    { group: ["../ops", "../ops/*", "../cli", "../cli/*"], message: "components/ must not import the ops layer (see docs/development.md, Layout)" },
                    { group: ["@pulumi/pulumi/automation"], message: "the Automation API belongs in ops/" },
                ],
            }],
        },
    },
    {
        files: ["ops/**/*.ts"],
        rules: {
            "no-restricted-imports": ["error", { patterns: [{ group: ["../cli", "../cli/*"], message: "ops/ must not import the CLI layer" }] }],
        },
    },
);
