#!/usr/bin/env node
import { runCli } from "./commands.ts";

/** `tierkv`: the server (`serve`, `migrate`) and redis-cli-like commands against a server. */
const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
});
process.exitCode = code;
