import type { CAC } from "cac";
import { resolve } from "node:path";
import { loadBenchConfig } from "../config/load-config.ts";
import type { RawFlags } from "../config/run-options.ts";
import { parseSweepFlags } from "../config/sweep-flags.ts";
import { UsageError } from "../config/usage-error.ts";
import { DOCTOR_EXIT, describePlan, formatFindings, runDoctor } from "../doctor/doctor.ts";
import { worstStatus } from "../doctor/finding.ts";
import { planFromClients, planFromConfig } from "../doctor/plan.ts";

export function registerDoctor(cli: CAC): void {
  cli
    .command("doctor [config]", "Check this host for what breaks big runs (open files, ports, somaxconn, clock, disk, dataset), with fixes")
    .option("--clients <list>", "Client counts to plan for instead of the config's (without a config: the planned connections)")
    .option("--rates <list>", "Request rates to plan for instead of the config's")
    .option("--num-requests <n>", "Request budget of each point")
    .option("--output-dir <dir>", "Where records would go, instead of the config's (default result)")
    .example("llmbench doctor bench.config.ts")
    .example("llmbench doctor --clients 1000")
    .usage(
      "doctor [config] [options]\n\nExit codes: 0 nothing found that breaks the planned run (WARN lines may distort it), " +
        "1 a FAIL finding (the run would break), 2 bad flags or config.",
    )
    .action(async (configPath: string | undefined, flags: RawFlags) => {
      let plan;
      if (configPath !== undefined) {
        plan = planFromConfig(await loadBenchConfig(configPath, parseSweepFlags(flags)));
      } else {
        if (flags.rates !== undefined || flags.numRequests !== undefined) throw new UsageError("doctor: --rates and --num-requests need a config; without one, give --clients N");
        const overrides = parseSweepFlags(flags);
        const clients = overrides.clients === undefined ? null : Math.max(...overrides.clients);
        plan = planFromClients(clients, overrides.outputDir ?? resolve("result"));
      }
      const findings = await runDoctor(plan, { dataset: true });
      console.log(`llmbench doctor — ${describePlan(plan)}`);
      console.log(formatFindings(findings));
      process.exitCode = worstStatus(findings) === "fail" ? DOCTOR_EXIT.problem : DOCTOR_EXIT.ok;
    });
}
