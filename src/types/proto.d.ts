/** `import path from "x.proto" with { type: "file" }`: Bun embeds the file in the binary and gives its path. */
declare module "*.proto" {
  const path: string;
  export default path;
}
