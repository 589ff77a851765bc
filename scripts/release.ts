/**
 * Builds llmbench binaries that carry their build facts (target, Bun version, git commit).
 *
 *   bun scripts/release.ts                          every release target into dist/, with SHA256SUMS
 *   bun scripts/release.ts --targets linux-arm64 --out-dir DIR     some targets into DIR
 *   bun scripts/release.ts --host --outfile llmbench                the build machine's binary (npm run build)
 *
 * A cross target's Bun runtime comes from the npm registry the first time (~48 MB each) and is
 * cached by Bun after that. Every binary is checked after the build: its ELF machine and
 * interpreter must be the target's.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { VERSION } from "../src/version.ts";

const ROOT = resolve(import.meta.dir, "..");

export interface ReleaseTarget {
  /** Our name, in the file name and in `--version`. */
  name: string;
  /** Bun's --target. */
  bunTarget: string;
  /** What the binary's ELF header must say. */
  machine: "x86-64" | "aarch64";
  interpreter: string;
}

export const RELEASE_TARGETS: readonly ReleaseTarget[] = [
  { name: "linux-x64", bunTarget: "bun-linux-x64", machine: "x86-64", interpreter: "/lib64/ld-linux-x86-64.so.2" },
  { name: "linux-x64-baseline", bunTarget: "bun-linux-x64-baseline", machine: "x86-64", interpreter: "/lib64/ld-linux-x86-64.so.2" },
  { name: "linux-arm64", bunTarget: "bun-linux-arm64", machine: "aarch64", interpreter: "/lib/ld-linux-aarch64.so.1" },
  { name: "linux-x64-musl", bunTarget: "bun-linux-x64-musl", machine: "x86-64", interpreter: "/lib/ld-musl-x86_64.so.1" },
  { name: "linux-arm64-musl", bunTarget: "bun-linux-arm64-musl", machine: "aarch64", interpreter: "/lib/ld-musl-aarch64.so.1" },
];

/** File name of a target's binary in dist/: llmbench-0.1.0-linux-arm64. */
export function releaseFileName(target: ReleaseTarget): string {
  return `llmbench-${VERSION}-${target.name}`;
}

// ---------------------------------------------------------------- build facts

/** The commit being built, with "-dirty" when tracked files have uncommitted changes; "unknown" outside git. */
export function gitCommit(cwd = ROOT): string {
  const head = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd, stdout: "pipe", stderr: "ignore" });
  if (head.exitCode !== 0) return "unknown";
  const status = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { cwd, stdout: "pipe", stderr: "ignore" });
  const dirty = status.exitCode === 0 && status.stdout.toString().trim() !== "";
  return head.stdout.toString().trim() + (dirty ? "-dirty" : "");
}

/** The build machine's own target name, for `npm run build` (which compiles for the running Bun). */
export function hostTargetName(): string {
  const musl = readElf(process.execPath)?.interpreter?.includes("musl") ?? false;
  return `${process.platform}-${process.arch}${musl ? "-musl" : ""}`;
}

// ---------------------------------------------------------------- compile

/**
 * `bun build --compile --minify --bytecode --splitting` of src/cli.ts for one target (null: the
 * running Bun's). --bytecode needs --format=esm because cli.ts uses top-level await. --splitting
 * puts what cli.ts imports lazily (each command, the tokenizers' tables, grpc-js) in chunks of
 * their own that load only when imported: `--version` loads none of them. The binary reads no
 * `.env` or `bunfig.toml` from the folder it is run in: a stray file on a GPU host must not change
 * what is measured or where an API key comes from.
 */
export function compile(bunTarget: string | null, targetName: string, outfile: string, commit = gitCommit()): void {
  const defines: Record<string, string> = {
    __LLMBENCH_TARGET__: targetName,
    __LLMBENCH_BUILT_WITH_BUN__: Bun.version,
    __LLMBENCH_COMMIT__: commit,
  };
  const argv = [process.execPath, "build", "--compile", "--minify", "--bytecode", "--format=esm", "--splitting", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig"];
  if (bunTarget !== null) argv.push(`--target=${bunTarget}`);
  for (const [name, value] of Object.entries(defines)) argv.push("--define", `${name}=${JSON.stringify(value)}`);
  argv.push(join(ROOT, "src/cli.ts"), "--outfile", outfile);
  const result = Bun.spawnSync(argv, { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  if (result.exitCode !== 0) throw new Error(`bun build for ${targetName} failed (exit ${result.exitCode})`);
}

// ---------------------------------------------------------------- checks

export interface ElfFacts {
  machine: string;
  interpreter: string | null;
}

const ELF_MACHINES: Record<number, string> = { 0x3e: "x86-64", 0xb7: "aarch64" };

/** Machine and program interpreter of a 64-bit little-endian ELF file; null when it is not one. */
export function readElf(path: string): ElfFacts | null {
  const fd = openSync(path, "r");
  try {
    const read = (offset: number, length: number) => {
      const buffer = Buffer.alloc(length);
      const got = readSync(fd, buffer, 0, length, offset);
      return buffer.subarray(0, got);
    };
    const header = read(0, 64);
    if (header.length < 64 || header.toString("latin1", 0, 4) !== "\x7fELF" || header[4] !== 2 || header[5] !== 1) return null;
    const machineCode = header.readUInt16LE(0x12);
    const programHeaders = Number(header.readBigUInt64LE(0x20));
    const entrySize = header.readUInt16LE(0x36);
    const count = header.readUInt16LE(0x38);
    let interpreter: string | null = null;
    for (let i = 0; i < count; i++) {
      const entry = read(programHeaders + i * entrySize, entrySize);
      if (entry.readUInt32LE(0) !== 3) continue; // PT_INTERP
      const offset = Number(entry.readBigUInt64LE(8));
      const size = Number(entry.readBigUInt64LE(32));
      interpreter = read(offset, size).toString("latin1").replace(/\0+$/, "");
    }
    return { machine: ELF_MACHINES[machineCode] ?? `0x${machineCode.toString(16)}`, interpreter };
  } finally {
    closeSync(fd);
  }
}

function checkBinary(path: string, target: ReleaseTarget): void {
  const elf = readElf(path);
  if (elf === null) throw new Error(`${path}: not an ELF executable`);
  if (elf.machine !== target.machine || elf.interpreter !== target.interpreter) {
    throw new Error(`${path}: built for ${elf.machine} with ${elf.interpreter}, expected ${target.machine} with ${target.interpreter}`);
  }
}

/** SHA256SUMS in `sha256sum` format: "<hex>  <file name>", one line per file, names relative to its folder. */
export async function writeChecksums(dir: string, fileNames: string[]): Promise<string> {
  const lines: string[] = [];
  for (const name of fileNames) {
    const hasher = new Bun.CryptoHasher("sha256");
    for await (const chunk of Bun.file(join(dir, name)).stream()) hasher.update(chunk);
    lines.push(`${hasher.digest("hex")}  ${name}`);
  }
  const path = join(dir, "SHA256SUMS");
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

// ---------------------------------------------------------------- command line

interface Args {
  host: boolean;
  outfile: string;
  outDir: string;
  targets: ReleaseTarget[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { host: false, outfile: "llmbench", outDir: join(ROOT, "dist"), targets: [...RELEASE_TARGETS] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    if (flag === "--host") args.host = true;
    else if (flag === "--outfile") args.outfile = value();
    else if (flag === "--out-dir") args.outDir = resolve(value());
    else if (flag === "--targets") {
      args.targets = value().split(",").map((name) => {
        const target = RELEASE_TARGETS.find((t) => t.name === name);
        if (!target) throw new Error(`--targets: unknown target "${name}"; known: ${RELEASE_TARGETS.map((t) => t.name).join(", ")}`);
        return target;
      });
    } else throw new Error(`unknown flag ${flag}`);
  }
  return args;
}

function checkPackageVersion(): void {
  const packageVersion = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
  if (packageVersion !== VERSION) throw new Error(`package.json says version ${packageVersion} but src/version.ts says ${VERSION}`);
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  checkPackageVersion();
  const commit = gitCommit();
  if (args.host) {
    compile(null, hostTargetName(), resolve(args.outfile), commit);
    return;
  }
  mkdirSync(args.outDir, { recursive: true });
  const checksums = join(args.outDir, "SHA256SUMS");
  if (existsSync(checksums)) rmSync(checksums);
  const built: string[] = [];
  for (const target of args.targets) {
    const name = releaseFileName(target);
    const path = join(args.outDir, name);
    console.log(`== ${name} (${target.bunTarget})`);
    compile(target.bunTarget, target.name, path, commit);
    checkBinary(path, target);
    built.push(name);
  }
  await writeChecksums(args.outDir, built);
  console.log(`\n${args.outDir}:`);
  for (const name of built) console.log(`  ${name.padEnd(36)} ${(statSync(join(args.outDir, name)).size / 1e6).toFixed(1).padStart(7)} MB`);
  console.log(`  ${"SHA256SUMS".padEnd(36)} ${built.length} files`);
  console.log(`verify with: cd ${basename(args.outDir)} && sha256sum -c SHA256SUMS`);
}

if (import.meta.main) {
  await main(process.argv.slice(2)).catch((error: Error) => {
    console.error(`release: ${error.message}`);
    process.exit(1);
  });
}
