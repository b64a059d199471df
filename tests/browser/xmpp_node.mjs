// A Node XMPP client: @xmpp/client (npm) over XMPP over WebSocket (RFC 7395) logs in with SCRAM,
// sends its presence, sends --body to --to and waits for an answer from --to. Run with
// `node --experimental-websocket` (Node 20's WebSocket). Driven by test_xmpp_web.py; by hand:
//
//   node --experimental-websocket xmpp_node.mjs --url ws://127.0.0.1:8080/xmpp-websocket \
//       --domain localhost --user alice --password pw --to bob@localhost --body hello
//
// Prints JSON lines as xmpp_page.mjs does; exit 0 when an answer came.
import {client, xml} from '@xmpp/client';

const args = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
for (const k of ['url', 'domain', 'user', 'password', 'to', 'body'])
  if (!args[k]) {
    console.error(`xmpp_node.mjs: --${k} is required`);
    process.exit(2);
  }
const timeoutMs = Number(args['timeout-ms'] ?? 30000);
const say = (o) => console.log(JSON.stringify(o));
const result = {ok: false, transport: 'websocket', errors: []};

const xmpp = client({service: args.url, domain: args.domain, username: args.user, password: args.password,
                     resource: 'node'});
xmpp.on('error', (e) => result.errors.push(String(e)));
const done = new Promise((resolve) => {
  const timer = setTimeout(() => resolve('timeout'), timeoutMs);
  xmpp.on('stanza', (s) => {
    if (!s.is('message')) return;
    const body = s.getChildText('body') ?? '';
    say({event: 'message', from: s.attrs.from, body});
    if ((s.attrs.from ?? '').split('/')[0] === args.to) {
      result.answer = body;
      result.from = s.attrs.from;
      clearTimeout(timer);
      resolve('answered');
    }
  });
});
xmpp.on('online', async (address) => {
  result.jid = address.toString();
  say({event: 'online', jid: result.jid});
  await xmpp.send(xml('presence'));
  await xmpp.send(xml('message', {to: args.to, type: 'chat'}, xml('body', {}, args.body)));
});
try {
  await xmpp.start();
  const how = await done;
  if (how === 'timeout') result.errors.push(`no answer in ${timeoutMs} ms`);
  result.mechanism = xmpp.mechanism ?? null;
  result.ok = result.answer !== undefined;
  await xmpp.stop().catch(() => {});
} catch (e) {
  result.errors.push(String(e && e.stack || e));
}
say(result);
process.exit(result.ok ? 0 : 1);
