// Serves a `vercel build` output (Build Output API v3) on loopback, the way Vercel's Node.js
// runtime would: routes from `config.json`, each `*.func` imported from its own folder (so each
// function has its own module instance and L1, as on Vercel), its default export called as a
// web handler. Run as its own process: `node vercel-serve.mjs <output> <port> <project root>`,
// on a copy of `.vercel/output` outside the project, so that a function cannot borrow a file
// from the project's node_modules; it prints `listening <url>` once ready. Plain JavaScript on purpose: no TypeScript loader may help the
// built functions resolve what Vercel's runtime would not.
import { existsSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";

/** @typedef {(request: Request) => Response | Promise<Response>} Handler */

const projectRoot = resolve(process.argv[4] ?? ".");

const HTTP_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH"];

/**
 * Loads the handler of one `.func` folder as Vercel's Node.js launcher does.
 * @param {string} funcDir
 * @returns {Promise<Handler>}
 */
async function loadFunction(funcDir) {
  const config = JSON.parse(readFileSync(join(funcDir, ".vc-config.json"), "utf8"));
  if (!/^nodejs(22|24)\.x$/.test(config.runtime) || config.launcherType !== "Nodejs") {
    throw new Error(
      `${funcDir}: expected a Node.js 22/24 function, got ${config.runtime}/${config.launcherType}`,
    );
  }
  // A function holds every file it needs (the traced node_modules included), except where
  // `filePathMap` says a path comes from the project instead: link those in, as Vercel would.
  for (const [from, to] of Object.entries(config.filePathMap ?? {})) {
    const target = join(funcDir, from);
    if (!existsSync(target)) symlinkSync(join(projectRoot, to), target);
  }
  let listener = await import(pathToFileURL(join(funcDir, config.handler)).href);
  for (let i = 0; i < 5 && listener.default !== undefined; i++) listener = listener.default;
  if (typeof listener.fetch === "function") {
    const fetch = listener.fetch;
    return (request) => fetch(request);
  }
  const methods = HTTP_METHODS.filter((m) => typeof listener[m] === "function");
  if (methods.length > 0) {
    return (request) => {
      const handler = listener[request.method];
      return handler ? handler(request) : new Response(null, { status: 405 });
    };
  }
  throw new Error(`${funcDir}: the handler exports neither fetch nor HTTP method functions`);
}

async function main() {
  const outputDir = resolve(process.argv[2] ?? ".vercel/output");
  const port = Number(process.argv[3] ?? 0);
  const { routes = [] } = JSON.parse(readFileSync(join(outputDir, "config.json"), "utf8"));
  const compiled = routes
    .filter((r) => typeof r.src === "string" && typeof r.dest === "string")
    .map((r) => ({ src: new RegExp(r.src), dest: r.dest }));
  /** @type {Map<string, Promise<Handler>>} */
  const loaded = new Map();
  // Import every function before taking traffic, so that a broken build fails at start.
  const funcDirs = readdirSync(join(outputDir, "functions"), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name.endsWith(".func"))
    .map((entry) => join(entry.parentPath, entry.name));
  if (funcDirs.length === 0) throw new Error(`${outputDir} holds no functions`);
  for (const dir of funcDirs) loaded.set(dir, loadFunction(dir));
  await Promise.all(loaded.values());

  const server = serve({
    port,
    hostname: "127.0.0.1",
    fetch: async (request) => {
      const { pathname } = new URL(request.url);
      for (const route of compiled) {
        const match = route.src.exec(pathname);
        if (match === null) continue;
        const dest = route.dest.replace(/\$(\d+)/g, (_, i) => match[Number(i)] ?? "");
        const funcDir = join(outputDir, "functions", `${dest.replace(/^\//, "")}.func`);
        let handler = loaded.get(funcDir);
        if (handler === undefined) {
          handler = loadFunction(funcDir);
          loaded.set(funcDir, handler);
        }
        return (await handler)(request);
      }
      return new Response("The page could not be found.\n\nNOT_FOUND\n", { status: 404 });
    },
  });
  server.once("listening", () => {
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no address");
    console.log(`listening http://127.0.0.1:${address.port}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

await main();
