// Lighthouse (performance and accessibility) on three pages of the portal as a
// running gateway serves it: the home page, an item's guide and a case page.
//
//   node scripts/lighthouse.mjs [gateway URL] [--desktop]
//
// The gateway defaults to http://127.0.0.1:8000 (`make run`). Chromium is
// CHROME_PATH (default /usr/bin/chromium), run with --headless=new --no-sandbox.
// Reports go to ../var/lighthouse/{mobile,desktop}/<page>.report.{json,html}; the scores are
// printed as Lighthouse measured them, one line per page, and the exit status
// is 1 when a score is below 90 (2 when a page could not be audited).
//
// The home page and the guide are public: each is audited by the lighthouse
// command itself, in a Chromium of its own, as a first visit (mobile emulation
// and throttling unless --desktop).
//
// The case page needs a signed-in reader, and the portal keeps its access
// token in memory and its refresh token in the tab's sessionStorage, neither
// of which a new Chromium (or a new tab on a debugging port) has. So the script
// launches Chromium itself, signs the demo citizen (张三, 13900000001) in
// through the portal and tongban's sign-in page in one tab, and hands that tab
// to Lighthouse's Node API (the same audits as the command) with the storage
// reset turned off, after clearing the HTTP cache: the measured load is a
// reload of the case page in a signed-in tab (the portal renews its token
// from sessionStorage, then reads the case), with a cold cache. The case is
// the citizen's newest; when they have none, one is applied for online
// through the API (on the running cluster).

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import puppeteer from "puppeteer-core";

const here = dirname(fileURLToPath(import.meta.url));
const portalDir = resolve(here, "..");
const args = process.argv.slice(2);
const desktop = args.includes("--desktop");
const reportDir = resolve(portalDir, "..", "var", "lighthouse", desktop ? "desktop" : "mobile");
const base = (args.find((a) => !a.startsWith("--")) ?? "http://127.0.0.1:8000").replace(/\/$/, "");
const chromePath = process.env.CHROME_PATH ?? "/usr/bin/chromium";
const chromeFlags = ["--headless=new", "--no-sandbox"];
const categories = ["performance", "accessibility"];
const CITIZEN = { phone: "13900000001", password: "Citizen2026" };
const ITEM_CODE = "320000-JSSCJG-001"; // 食品生产许可证核发（保健食品）
const TARGET = 90;

async function call(path, init = {}) {
  const response = await fetch(`${base}/api/v1${path}`, {
    ...init,
    headers: { "Content-Type": "application/json", ...(init.headers ?? {}) },
  });
  if (!response.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function itemGuide() {
  const found = await call(`/items?${new URLSearchParams({ q: ITEM_CODE, page_size: "20" })}`);
  const item = found.items.find((i) => i.code === ITEM_CODE) ?? found.items[0];
  if (!item) throw new Error(`no item ${ITEM_CODE} in the catalogue`);
  return call(`/items/${item.item_id}`);
}

async function citizensCase(guide) {
  const { access_token: token } = await call("/auth/login", { method: "POST", body: JSON.stringify(CITIZEN) });
  const auth = { Authorization: `Bearer ${token}` };
  const mine = await call("/applications?page_size=1", { headers: auth });
  if (mine.items.length) return mine.items[0].application_id;
  const submitted = await call("/applications", {
    method: "POST",
    headers: { ...auth, "Idempotency-Key": `lighthouse-${Date.now()}` },
    body: JSON.stringify({
      item_id: guide.item_id,
      form: { remarks: "Lighthouse" },
      materials: guide.materials.map((m) => ({ name: m.name })),
      delivery: { mode: "online" },
    }),
  });
  return submitted.application_id;
}

function scoresOf(lhr) {
  const out = { url: lhr.finalDisplayedUrl ?? lhr.finalUrl };
  for (const key of categories) {
    const score = lhr.categories[key]?.score;
    out[key] = score == null ? null : Math.round(score * 100);
  }
  out.metrics = Object.fromEntries(
    ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift", "speed-index"].map(
      (id) => [id, lhr.audits[id]?.displayValue ?? null],
    ),
  );
  out.accessibilityFailures = Object.values(lhr.audits)
    .filter((a) => lhr.categories.accessibility.auditRefs.some((r) => r.id === a.id && r.weight > 0) && a.score === 0)
    .map((a) => a.id);
  return out;
}

/** A public page, by the lighthouse command; its scores. */
function auditByCommand(name, url) {
  const output = join(reportDir, name);
  const command = [
    join(portalDir, "node_modules", "lighthouse", "cli", "index.js"),
    url,
    `--chrome-flags=${chromeFlags.join(" ")}`,
    `--only-categories=${categories.join(",")}`,
    "--output=json",
    "--output=html",
    `--output-path=${output}`,
    "--quiet",
    ...(desktop ? ["--preset=desktop"] : []),
  ];
  console.log(`$ CHROME_PATH=${chromePath} lighthouse ${command.slice(1).map((a) => (a.includes(" ") ? `"${a}"` : a)).join(" ")}`);
  const run = spawnSync(process.execPath, command, { env: { ...process.env, CHROME_PATH: chromePath }, stdio: ["ignore", "inherit", "inherit"] });
  if (run.status !== 0) throw new Error(`lighthouse exited with ${run.status} on ${url}`);
  return scoresOf(JSON.parse(readFileSync(`${output}.report.json`, "utf8")));
}

/** The case page, in a tab signed in through the portal; its scores. */
async function auditSignedIn(name, applicationId) {
  const chrome = await chromeLauncher.launch({ chromePath, chromeFlags });
  const browser = await puppeteer.connect({ browserURL: `http://127.0.0.1:${chrome.port}`, defaultViewport: null });
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/`, { waitUntil: "networkidle0" });
    await Promise.all([page.waitForNavigation(), page.click("[data-action='sign-in']")]);
    if (!page.url().includes("/oidc/sign-in")) throw new Error(`sign-in did not reach tongban's page: ${page.url()}`);
    await page.type("#phone", CITIZEN.phone);
    await page.type("#password", CITIZEN.password);
    await Promise.all([page.waitForNavigation(), page.click("button[type='submit']")]);
    if (page.url().includes("/oidc/consent")) {
      await Promise.all([page.waitForNavigation(), page.click("button[value='allow']")]);
    }
    await page.waitForSelector("[data-action='sign-out']", { timeout: 20000 });
    const url = `${base}/my/cases/${applicationId}`;
    await page.goto(url, { waitUntil: "networkidle0" });
    await page.waitForSelector("h1");
    const cdp = await page.createCDPSession();
    await cdp.send("Network.clearBrowserCache");
    await cdp.detach();
    const flags = {
      port: chrome.port,
      disableStorageReset: true, // keeps the tab's sessionStorage: the refresh token
      onlyCategories: categories,
      output: ["json", "html"],
      logLevel: "error",
      ...(desktop ? { formFactor: "desktop", screenEmulation: { mobile: false, width: 1350, height: 940, deviceScaleFactor: 1, disabled: false }, throttling: { rttMs: 40, throughputKbps: 10240, cpuSlowdownMultiplier: 1, requestLatencyMs: 0, downloadThroughputKbps: 0, uploadThroughputKbps: 0 } } : {}),
    };
    console.log(`$ (Lighthouse Node API on a tab signed in as ${CITIZEN.phone}, disableStorageReset) ${url}`);
    const result = await lighthouse(url, flags, undefined, page);
    if (!result) throw new Error(`Lighthouse returned nothing for ${url}`);
    const [json, html] = result.report;
    writeFileSync(join(reportDir, `${name}.report.json`), json);
    writeFileSync(join(reportDir, `${name}.report.html`), html);
    const scores = scoresOf(result.lhr);
    // Signed out along the way, the page would be the sign-in or another page.
    if (!scores.url.includes(`/my/cases/${applicationId}`)) throw new Error(`ended on ${scores.url}, not the case page`);
    return scores;
  } finally {
    await browser.disconnect();
    chrome.kill();
  }
}

async function main() {
  mkdirSync(reportDir, { recursive: true });
  const guide = await itemGuide();
  const applicationId = await citizensCase(guide);
  const pages = [
    ["home", () => auditByCommand("home", `${base}/`)],
    ["guide", () => auditByCommand("guide", `${base}/items/${guide.item_id}`)],
    ["case", () => auditSignedIn("case", applicationId)],
  ];
  const results = {};
  let failed = false;
  for (const [name, audit] of pages) {
    try {
      results[name] = await audit();
    } catch (error) {
      failed = true;
      results[name] = { error: String(error?.stack ?? error) };
    }
  }
  console.log(`\nLighthouse ${desktop ? "desktop" : "mobile (default: emulated phone, simulated slow 4G, 4x CPU)"} on ${base}`);
  console.log("page   performance  accessibility  url");
  let low = false;
  for (const [name, r] of Object.entries(results)) {
    if (r.error) {
      console.log(`${name.padEnd(7)}not audited: ${r.error.split("\n")[0]}`);
      continue;
    }
    low ||= r.performance < TARGET || r.accessibility < TARGET;
    console.log(`${name.padEnd(7)}${String(r.performance).padEnd(13)}${String(r.accessibility).padEnd(15)}${r.url}`);
    console.log(`       ${Object.entries(r.metrics).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    if (r.accessibilityFailures.length) console.log(`       accessibility audits failed: ${r.accessibilityFailures.join(", ")}`);
  }
  writeFileSync(join(reportDir, "scores.json"), JSON.stringify(results, null, 2));
  console.log(`reports: ${reportDir}`);
  process.exitCode = failed ? 2 : low ? 1 : 0;
}

await main();
