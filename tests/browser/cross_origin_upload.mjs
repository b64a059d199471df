// A page of one origin uploads a file to a URL of another, the way a web XMPP client (converse.js,
// Movim) uses an HTTP upload slot (XEP-0363): Debian's headless Chromium opens --origin, and the
// page PUTs --size bytes to --put with fetch() (a preflighted request: PUT with a Content-Type),
// then GETs --get and hashes what came back. Driven by tests/integration/test_xmpp_services.py;
// by hand:
//
//   node cross_origin_upload.mjs --origin http://localhost:8080/ --put 'http://127.0.0.1:8080/upload/…?…' \
//       --get http://127.0.0.1:8080/upload/… --size 5000 [--content-type image/png] [--timeout-ms 30000]
//
// The bytes are i*31+7 mod 256 for i in 0..size-1. Prints one JSON line: {"ok": true, "put": 201,
// "get": 200, "sha256": "<hex of what GET returned>"} or {"ok": false, "error": ...}; exit 0 when
// both requests went through, 1 when not, 2 on bad arguments.
import {launchMediaBrowser} from './chromium.mjs';

function parseArgs(argv) {
  const out = {timeoutMs: 30000, chromium: '/usr/bin/chromium', contentType: 'application/octet-stream'};
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${key} needs a value`);
    if (key === '--origin') out.origin = value;
    else if (key === '--put') out.put = value;
    else if (key === '--get') out.get = value;
    else if (key === '--size') out.size = Number(value);
    else if (key === '--content-type') out.contentType = value;
    else if (key === '--timeout-ms') out.timeoutMs = Number(value);
    else if (key === '--chromium') out.chromium = value;
    else throw new Error(`unknown argument ${key}`);
  }
  for (const k of ['origin', 'put', 'get', 'size']) if (!out[k]) throw new Error(`--${k} is required`);
  return out;
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`cross_origin_upload.mjs: ${e.message}`);
  process.exit(2);
}

let result = {ok: false};
let browser = null;
try {
  browser = await launchMediaBrowser({executable: args.chromium, timeoutMs: args.timeoutMs});
  const {page} = browser;
  // Whatever the origin serves (a 404 is fine): only the page's origin matters.
  await page.goto(args.origin, {waitUntil: 'load'});
  result = await page.evaluate(async ({put, get, size, contentType}) => {
    const out = {origin: location.origin};
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = (i * 31 + 7) & 255;
    try {
      const up = await fetch(put, {method: 'PUT', body: data, headers: {'Content-Type': contentType}});
      out.put = up.status;
      const down = await fetch(get);
      out.get = down.status;
      const body = await down.arrayBuffer();
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
      out.sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
      out.ok = up.ok && down.ok;
    } catch (e) {
      // A refused cross-origin request surfaces only as "Failed to fetch".
      out.ok = false;
      out.error = String(e);
    }
    return out;
  }, {put: args.put, get: args.get, size: args.size, contentType: args.contentType});
} catch (e) {
  result = {ok: false, error: String(e)};
} finally {
  if (browser) await browser.close();
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
