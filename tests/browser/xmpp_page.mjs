// An XMPP web client: strophe.js (npm) in Debian's headless Chromium, on a page of the server's own
// origin, logs in over BOSH (XEP-0206, --url http://host/http-bind) or XMPP over WebSocket
// (--url ws://host/xmpp-websocket), sends its presence, sends --body to --to and waits for an
// answer from --to. Driven by tests/integration/test_xmpp_web.py; by hand:
//
//   node xmpp_page.mjs --url http://127.0.0.1:8080/http-bind --jid alice@localhost --password pw \
//       --to bob@localhost --body hello [--origin http://localhost:8080/] [--timeout-ms 30000] \
//       [--chromium /usr/bin/chromium]
//
// The page is the server's own root, or --origin's (another origin: BOSH requests go cross-origin,
// which a browser allows only when the server answers CORS).
// Prints one JSON line per event on stdout ({"event": "online", "jid": ...} once logged in,
// {"event": "message", ...} for what comes), the last one the result ({"ok": ...}); exit 0 when an
// answer came, 1 when not, 2 on bad arguments.
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {launchMediaBrowser} from './chromium.mjs';

function parseArgs(argv) {
  const out = {timeoutMs: 30000, chromium: '/usr/bin/chromium'};
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${key} needs a value`);
    if (key === '--url') out.url = value;
    else if (key === '--jid') out.jid = value;
    else if (key === '--password') out.password = value;
    else if (key === '--to') out.to = value;
    else if (key === '--body') out.body = value;
    else if (key === '--origin') out.origin = value;
    else if (key === '--timeout-ms') out.timeoutMs = Number(value);
    else if (key === '--chromium') out.chromium = value;
    else throw new Error(`unknown argument ${key}`);
  }
  for (const k of ['url', 'jid', 'password', 'to', 'body']) if (!out[k]) throw new Error(`--${k} is required`);
  return out;
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`xmpp_page.mjs: ${e.message}`);
  process.exit(2);
}

const say = (o) => console.log(JSON.stringify(o));
const result = {ok: false, errors: []};
let browser = null;
try {
  const here = dirname(fileURLToPath(import.meta.url));
  const strophe = readFileSync(join(here, 'node_modules/strophe.js/dist/strophe.umd.cjs'), 'utf8');
  browser = await launchMediaBrowser({executable: args.chromium, timeoutMs: args.timeoutMs});
  const {page} = browser;
  page.on('pageerror', (error) => result.errors.push(`pageerror: ${error.message}`));
  await page.exposeFunction('junctionSay', (o) => say(o));
  const url = new URL(args.url);
  await page.goto(args.origin ?? `${url.protocol === 'wss:' || url.protocol === 'https:' ? 'https:' : 'http:'}//${url.host}/`,
      {waitUntil: 'load'});
  await page.addScriptTag({content: strophe});
  const report = await page.evaluate(({url, jid, password, to, body, timeoutMs}) => new Promise((resolve) => {
    const {Strophe, $msg, $pres} = window;
    const out = {transport: url.startsWith('ws') ? 'websocket' : 'bosh', origin: location.origin};
    const conn = new Strophe.Connection(url);
    const timer = setTimeout(() => resolve({...out, error: `no answer in ${timeoutMs} ms`}), timeoutMs);
    conn.addHandler((m) => {
      const from = m.getAttribute('from');
      const text = m.getElementsByTagName('body')[0]?.textContent ?? '';
      window.junctionSay({event: 'message', from, body: text});
      if (from.split('/')[0] === to) {
        clearTimeout(timer);
        out.answer = text;
        out.from = from;
        conn.disconnect('done');
        resolve(out);
      }
      return true;
    }, null, 'message');
    conn.connect(jid, password, (status, condition) => {
      const names = Object.fromEntries(Object.entries(Strophe.Status).map(([k, v]) => [v, k]));
      if (status === Strophe.Status.CONNECTED) {
        out.jid = conn.jid;
        window.junctionSay({event: 'online', jid: conn.jid});
        conn.send($pres());
        conn.send($msg({to, type: 'chat'}).c('body').t(body));
      } else if (status === Strophe.Status.AUTHFAIL || status === Strophe.Status.CONNFAIL) {
        clearTimeout(timer);
        resolve({...out, error: `${names[status]} ${condition ?? ''}`});
      }
    });
  }), {url: args.url, jid: args.jid, password: args.password, to: args.to, body: args.body, timeoutMs: args.timeoutMs});
  Object.assign(result, report);
  result.ok = report.answer !== undefined && result.errors.length === 0;
} catch (e) {
  result.errors.push(String(e && e.stack || e));
} finally {
  if (browser) await browser.close().catch(() => {});
}
say(result);
process.exit(result.ok ? 0 : 1);
