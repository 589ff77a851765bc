/** `import text from "x.js" with { type: "text" }`: Bun embeds the file's text in the binary. */
declare module "*.js" {
  const text: string;
  export default text;
}
declare module "*.css" {
  const text: string;
  export default text;
}
