// Opens Junction's operator page (conf/www/index.html) in Debian's headless Chromium and checks
// that it shows a live stream. Driven by tests/integration/test_web_page.py; by hand:
//
//   node live_page.mjs --url http://127.0.0.1:8080/ --stream live/cam --screenshot /tmp/page.png
//       [--token SECRET] [--timeout-ms 30000] [--chromium /usr/bin/chromium]
//
// Checks, in order:
//   --token given: the page first shows the admin token form (the streams API answered 401)
//     and server info without it, does not list the stream; then the token is typed in;
//   the stream's "app/name" appears in the streams table with its /<app>/<name>.flv link;
//   the traffic graph (#traffic-graph) exists and each of its series has at least two points;
//   no JavaScript error (pageerror) and no console error happened. With --token, the 401s the
//     page got before the token was entered are expected and allowed; none after it.
// A full-page screenshot is saved to --screenshot whether the checks pass or not.
// Prints one JSON line (the result) on stdout; exit 0 when every check passed, 1 when one
// failed, 2 on bad arguments.

import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {chromium} from 'playwright-core';

function parseArgs(argv) {
  const out = {timeoutMs: 30000, chromium: '/usr/bin/chromium', token: null};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${key} needs a value`);
    i++;
    if (key === '--url') out.url = value;
    else if (key === '--stream') out.stream = value;
    else if (key === '--screenshot') out.screenshot = value;
    else if (key === '--token') out.token = value;
    else if (key === '--timeout-ms') out.timeoutMs = Number(value);
    else if (key === '--chromium') out.chromium = value;
    else throw new Error(`unknown argument ${key}`);
  }
  for (const k of ['url', 'stream', 'screenshot']) if (!out[k]) throw new Error(`--${k} is required`);
  if (!/^[^/]+\/[^/]+$/.test(out.stream)) throw new Error('--stream is app/name');
  return out;
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`live_page.mjs: ${e.message}`);
  process.exit(2);
}

const [app, name] = args.stream.split('/');
const flvHref = `/${encodeURIComponent(app)}/${encodeURIComponent(name)}.flv`;
const result = {ok: false, url: args.url, stream: args.stream, flv_href: flvHref, screenshot: args.screenshot,
  checks: [], errors: [], allowed: []};

const userDataDir = mkdtempSync(join(tmpdir(), 'junction-chromium-'));
let context = null;
let page = null;
let tokenEntered = false;

function check(what) {
  result.checks.push(what);
}

// page.waitForFunction, failing with what was awaited rather than only "Timeout exceeded".
async function waitUntil(what, fn, arg) {
  try {
    await page.waitForFunction(fn, arg);
  } catch (e) {
    throw new Error(`${what}: ${e.message.split('\n')[0]}`);
  }
}

try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: args.chromium,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: {width: 1280, height: 900},
    timeout: args.timeoutMs,
  });
  page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(args.timeoutMs);

  page.on('pageerror', (error) => result.errors.push(`pageerror: ${error.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = `console.${msg.type()}: ${msg.text()} (${msg.location().url || 'no location'})`;
    // Before the token is typed in, the admin API answers 401: the browser logs each refused
    // fetch. That is what the page is for; after the token, none may happen.
    if (args.token && !tokenEntered && /status of 401/.test(msg.text()) &&
        /\/api\/v1\//.test(msg.location().url || '')) {
      result.allowed.push(text);
      return;
    }
    result.errors.push(text);
  });

  const response = await page.goto(args.url, {waitUntil: 'load'});
  if (!response || !response.ok()) throw new Error(`GET ${args.url} answered ${response ? response.status() : 'nothing'}`);
  check(`GET ${args.url}: ${response.status()}`);

  // Server info comes from a public endpoint: it shows with or without the token.
  await waitUntil('server info (Version, Shards) never shown', () => {
    const facts = document.getElementById('server-facts');
    return facts && /Version/.test(facts.textContent) && /Shards/.test(facts.textContent);
  });
  check('server info shown');

  if (args.token) {
    await page.locator('#token-form').waitFor({state: 'visible'}).catch((e) => {
      throw new Error(`the admin token form never shown: ${e.message.split('\n')[0]}`);
    });
    check('token form shown');
    const listed = await page.locator('#streams-table').textContent();
    if (listed.includes(args.stream)) throw new Error('the stream is listed before the token was entered');
    check('stream not listed without the token');
    tokenEntered = true;
    await page.getByLabel('Admin token (http.admin_token)', {exact: true}).fill(args.token);
    await page.getByRole('button', {name: 'Use token'}).click();
    check('token entered');
  }

  // The stream: its app/name in a header cell of the streams table, its HTTP-FLV link.
  await waitUntil(`stream ${args.stream} with link ${flvHref} never listed`, ({stream, href}) => {
    const table = document.querySelector('#streams-table table');
    if (!table) return false;
    const named = Array.from(table.querySelectorAll('tbody th')).some((th) => th.textContent.trim() === stream);
    const link = table.querySelector(`a[href="${href}"]`);
    return named && link !== null;
  }, {stream: args.stream, href: flvHref});
  check(`stream ${args.stream} listed with link ${flvHref}`);
  if (args.token && await page.locator('#admin-token').isVisible()) throw new Error('the token form is still shown with the token');

  // The graph: an SVG whose series each have at least two points (two scrapes of /metrics for
  // the connections, three for the rates).
  await page.locator('#traffic-graph').waitFor({state: 'attached'});
  await waitUntil('the traffic graph never drew two points per series', () => {
    const series = Array.from(document.querySelectorAll('#traffic-graph path[data-series]'));
    return series.length >= 3 && series.every((p) => Number(p.getAttribute('data-points')) >= 2);
  });
  result.points = await page.evaluate(() => Object.fromEntries(
    Array.from(document.querySelectorAll('#traffic-graph path[data-series]'))
      .map((p) => [p.getAttribute('data-series'), Number(p.getAttribute('data-points'))])));
  check(`graph drawn: ${JSON.stringify(result.points)}`);

  if (result.errors.length) throw new Error(`${result.errors.length} JavaScript/console error(s)`);
  result.ok = true;
} catch (e) {
  result.failure = e.message.split('\n')[0];
  if (page) {
    try {
      result.page_text = (await page.locator('body').innerText({timeout: 2000})).slice(0, 3000);
    } catch (ignored) { /* the page is gone */ }
  }
} finally {
  if (page) {
    try {
      await page.screenshot({path: args.screenshot, fullPage: true, timeout: 10000});
    } catch (e) {
      result.screenshot_error = e.message.split('\n')[0];
    }
  }
  if (context) await context.close().catch(() => {});
  rmSync(userDataDir, {recursive: true, force: true});
}

console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
