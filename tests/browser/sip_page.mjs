// A browser phone: JsSIP (npm, bundled for the page with esbuild) in Debian's headless Chromium
// registers over SIP-over-WebSocket and calls a SIP address, with a fake microphone fed by a tone
// file. Driven by tests/integration/test_webrtc.py; by hand:
//
//   node sip_page.mjs --ws ws://127.0.0.1:8080/sip --user alice@127.0.0.1 --password pw
//       (--call sip:bob@127.0.0.1 | --answer 1) --seconds 6 [--tone tone.wav] [--opus-only 1]
//       [--hold 1] [--dtmf KEYS] [--timeout-ms 30000] [--chromium /usr/bin/chromium]
//
// The page is the server's own origin (the WebSocket URL's host). It calls --call, or with
// --answer waits for a call (printing {"event": "registered"} once it can be called) and answers
// it with the microphone. Once the call is confirmed it
// listens to the far end for --seconds: every 100 ms the loudest frequency of what it hears (an
// AnalyserNode on the remote track), then getStats (inbound and outbound audio: packets, codec,
// audio energy), hangs up and unregisters. --opus-only strips every audio codec but Opus (and
// telephone-event) from the page's offer or answer, so the far end must be transcoded to. --hold
// then puts the call on hold (a re-INVITE, sendonly) for two seconds and takes it off again,
// reporting the audio packets received in the second before each and in the second after.
// --dtmf sends the keys as RFC 4733 events (RTCDTMFSender) once the call is confirmed.
// Prints one JSON line per event on stdout, the last one the result ({"ok": ...}); exit 0 when the
// call was confirmed and the report taken, 1 when not, 2 on bad arguments.

import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {buildSync} from 'esbuild';
import {launchMediaBrowser} from './chromium.mjs';

function parseArgs(argv) {
  const out = {timeoutMs: 30000, chromium: '/usr/bin/chromium', tone: null, seconds: 6, opusOnly: false};
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${key} needs a value`);
    if (key === '--ws') out.ws = value;
    else if (key === '--user') out.user = value;
    else if (key === '--password') out.password = value;
    else if (key === '--call') out.call = value;
    else if (key === '--answer') out.answer = value === '1';
    else if (key === '--seconds') out.seconds = Number(value);
    else if (key === '--tone') out.tone = value;
    else if (key === '--opus-only') out.opusOnly = value === '1';
    else if (key === '--hold') out.hold = value === '1';
    else if (key === '--dtmf') out.dtmf = value;
    else if (key === '--timeout-ms') out.timeoutMs = Number(value);
    else if (key === '--chromium') out.chromium = value;
    else throw new Error(`unknown argument ${key}`);
  }
  for (const k of ['ws', 'user', 'password']) if (!out[k]) throw new Error(`--${k} is required`);
  if (!out.call === !out.answer) throw new Error('one of --call and --answer is required');
  return out;
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`sip_page.mjs: ${e.message}`);
  process.exit(2);
}

const say = (o) => console.log(JSON.stringify(o));
const result = {ok: false, call: args.call ?? 'answer', errors: []};
let browser = null;
try {
  // JsSIP's CommonJS sources as one script for the page (window.JsSIP).
  const here = dirname(fileURLToPath(import.meta.url));
  const bundle = buildSync({
    entryPoints: [join(here, 'node_modules/jssip/lib/JsSIP.js')], bundle: true, format: 'iife',
    globalName: 'JsSIP', platform: 'browser', write: false, logLevel: 'silent',
  }).outputFiles[0].text;
  browser = await launchMediaBrowser({executable: args.chromium, tone: args.tone, timeoutMs: args.timeoutMs});
  const {page} = browser;
  page.on('pageerror', (error) => result.errors.push(`pageerror: ${error.message}`));
  await page.exposeFunction('junctionSay', (o) => say(o));
  const ws = new URL(args.ws);
  await page.goto(`${ws.protocol === 'wss:' ? 'https:' : 'http:'}//${ws.host}/`, {waitUntil: 'load'});
  await page.addScriptTag({content: bundle});

  const report = await page.evaluate(async ({ws, user, password, call, answer, seconds, timeoutMs, opusOnly, hold, dtmf}) => {
    const out = {};
    const within = (promise, what) => Promise.race([promise, new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: no answer in ${timeoutMs} ms`)), timeoutMs))]);
    const ua = new JsSIP.UA({
      sockets: [new JsSIP.WebSocketInterface(ws)], uri: `sip:${user}`, password, register: true,
      session_timers: false, user_agent: 'junction-test JsSIP',
    });
    try {
      // The tone as it is: echo cancelling, noise suppression and gain control off.
      const microphone = await navigator.mediaDevices.getUserMedia({
        audio: {echoCancellation: false, noiseSuppression: false, autoGainControl: false}, video: false});
      // Calls are taken from the moment the page is registered (a UA with no listener refuses them).
      let incoming = null;
      const arrived = new Promise((resolve) => { incoming = resolve; });
      ua.on('newRTCSession', (e) => { if (e.originator === 'remote') incoming(e.session); });
      await within(new Promise((resolve, reject) => {
        ua.on('registered', resolve);
        ua.on('registrationFailed', (e) => reject(new Error(`registration failed: ${e.cause}`)));
        ua.start();
      }), 'REGISTER');
      await window.junctionSay({event: 'registered'});
      // Opus only: the audio transceivers' codec preferences, set just before each offer or
      // answer the connection makes (an SDP edited after the fact is not what Chromium sends).
      const onlyOpus = ({peerconnection: pc}) => {
        const codecs = RTCRtpReceiver.getCapabilities('audio').codecs
          .filter((c) => /^audio\/(opus|telephone-event)$/i.test(c.mimeType));
        const prefer = () => {
          for (const t of pc.getTransceivers())
            if (t.receiver.track.kind === 'audio') t.setCodecPreferences(codecs);
        };
        for (const make of ['createOffer', 'createAnswer']) {
          const original = pc[make].bind(pc);
          pc[make] = (...a) => { prefer(); return original(...a); };
        }
      };
      const options = {mediaStream: microphone, pcConfig: {iceServers: []}};
      let session;
      if (call) {
        if (opusOnly) options.eventHandlers = {peerconnection: onlyOpus};
        session = ua.call(call, options);
      } else {
        session = await within(arrived, 'an incoming call');
        if (opusOnly) {
          if (session.connection) onlyOpus({peerconnection: session.connection});
          else session.on('peerconnection', onlyOpus);
        }
        session.answer(options);
      }
      await within(new Promise((resolve, reject) => {
        session.on('confirmed', resolve);
        session.on('failed', (e) => reject(new Error(`the call failed: ${e.cause}`)));
      }), 'INVITE');
      await window.junctionSay({event: 'confirmed'});
      if (dtmf) {
        // JsSIP confirms the call on the ACK; Chromium's DTMF sender takes keys only once the
        // connection is up (a slow server can be behind the ACK).
        const sender = session.connection.getSenders().find((s) => s.track && s.track.kind === 'audio');
        await within(new Promise((resolve) => {
          const ready = () => (sender && sender.dtmf && sender.dtmf.canInsertDTMF ? resolve() : setTimeout(ready, 50));
          ready();
        }), 'the DTMF sender');
        session.sendDTMF(dtmf, {transportType: 'RFC2833', duration: 100, interToneGap: 70});
      }
      const pc = session.connection;
      const track = pc.getReceivers().map((r) => r.track).find((t) => t && t.kind === 'audio');
      // Chromium plays a remote track into Web Audio only while a media element plays it too.
      const element = document.createElement('audio');
      element.muted = true;
      element.autoplay = true;
      element.srcObject = new MediaStream([track]);
      document.body.appendChild(element);
      const audio = new AudioContext();
      await audio.resume();
      const analyser = audio.createAnalyser();
      analyser.fftSize = 8192;
      audio.createMediaStreamSource(new MediaStream([track])).connect(analyser);
      const bins = new Float32Array(analyser.frequencyBinCount);
      out.peaks = [];
      const begun = performance.now();
      while (performance.now() - begun < seconds * 1000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        analyser.getFloatFrequencyData(bins);
        let best = 1;
        for (let i = 2; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
        out.peaks.push({hz: Math.round(best * audio.sampleRate / analyser.fftSize), db: Math.round(bins[best])});
      }
      out.stats = {};
      const codecs = {};
      const all = await pc.getStats();
      all.forEach((s) => { if (s.type === 'codec') codecs[s.id] = s.mimeType; });
      all.forEach((s) => {
        if (s.type !== 'outbound-rtp' && s.type !== 'inbound-rtp') return;
        out.stats[s.type] = {packets: s.packetsSent ?? s.packetsReceived, codec: codecs[s.codecId],
          energy: s.totalAudioEnergy, level: s.audioLevel};
      });
      if (hold) {
        const received = async () => {
          let n = 0;
          (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') n = s.packetsReceived; });
          return n;
        };
        const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
        const waitFor = (event) => within(new Promise((resolve) => session.once(event, resolve)), event);
        out.hold = {};
        const held = waitFor('hold');
        session.hold();
        await held;
        await pause(500);  // what was on the way when the answer came
        const h0 = await received();
        await pause(1000);
        out.hold.whileHeld = (await received()) - h0;
        const resumed = waitFor('unhold');
        session.unhold();
        await resumed;
        await pause(500);
        const r0 = await received();
        await pause(1000);
        out.hold.afterResume = (await received()) - r0;
      }
      out.localSdp = pc.localDescription.sdp;
      out.remoteSdp = pc.remoteDescription.sdp;
      await new Promise((resolve) => {
        session.on('ended', resolve);
        session.terminate();
        setTimeout(resolve, 2000);
      });
      out.ended = true;
    } catch (e) {
      out.error = e.message;
    } finally {
      ua.stop();
    }
    return out;
  }, {ws: args.ws, user: args.user, password: args.password, call: args.call, answer: args.answer,
    seconds: args.seconds, hold: args.hold, dtmf: args.dtmf, timeoutMs: args.timeoutMs, opusOnly: args.opusOnly});
  Object.assign(result, report);
  result.ok = !report.error && report.ended === true;
} catch (e) {
  result.errors.push(e.message);
} finally {
  if (browser) await browser.close();
}
say(result);
process.exit(result.ok ? 0 : 1);
