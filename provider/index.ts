/**
 * What the component provider serves to other languages (Python, Go, .NET, Java, YAML): the
 * platform component. Its schema is inferred from the TypeScript sources (args interfaces and the
 * class's output fields), so this directory ships with the sources and this tsconfig.json.
 */
export { VaultSecretsPlatform } from "../components/platform";
