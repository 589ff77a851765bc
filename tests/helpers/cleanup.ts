import { afterAll } from "bun:test";
import { removeTempDirs } from "./cli.ts";

// preloaded (bunfig.toml): after every test, no folder of theirs is left in the system's temp folder
afterAll(removeTempDirs);
