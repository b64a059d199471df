// Publishes over WHIP or plays over WHEP in Debian's headless Chromium, with fake capture devices
// (a tone file for the microphone, Chromium's moving pattern for the camera). Driven by
// tests/integration/test_webrtc.py; by hand:
//
//   node webrtc_page.mjs --mode whip --url http://127.0.0.1:8080/live/cam/whip --seconds 10
//       [--tone tone.wav] [--token SECRET] [--tcp-only 1] [--video-codec VP8] [--simulcast h,l]
//       [--width 640 --height 480] [--timeout-ms 30000] [--chromium /usr/bin/chromium]
//
// The page is the server's own origin (its URL's root), so the WHIP/WHEP fetch is same-origin.
//   whip: getUserMedia (audio and video) -> a sendonly offer -> POST -> the answer; once the
//         connection is connected it prints {"event": "connected"} and publishes for --seconds,
//         then reports what it sent (getStats: outbound-rtp packets and frames per kind, the
//         video codec), DELETEs the session and closes.
//   whep: a recvonly offer for audio and video -> POST -> the answer; once connected, it plays
//         for --seconds into <video> and <audio> elements, then reports getStats: frames decoded,
//         freezes, total freeze time, the video size, the audio's total energy and level, and
//         DELETEs the session.
// --video-codec offers only that video codec (and its RTX), as a browser without the others would.
// --simulcast sends the video as simulcast layers with those rids, the first at full size, each
// next one at half the size of the one before; the report then has one outbound-rtp entry per
// rid ("outbound-rtp:video:<rid>"). --width/--height: the camera's picture.
// --tcp-only takes only the answer's TCP candidates (ICE-TCP, as a browser whose UDP is blocked
// would end up using); the report says which protocol the selected candidate pair uses.
// Prints one JSON line per event on stdout, the last one the result ({"ok": ...}); exit 0 when the
// session connected and the report was taken, 1 when not, 2 on bad arguments.

import {launchMediaBrowser} from './chromium.mjs';

function parseArgs(argv) {
  const out = {timeoutMs: 30000, chromium: '/usr/bin/chromium', token: null, tone: null, seconds: 10, width: 640,
    height: 480, simulcast: null};
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${key} needs a value`);
    if (key === '--mode') out.mode = value;
    else if (key === '--url') out.url = value;
    else if (key === '--seconds') out.seconds = Number(value);
    else if (key === '--tone') out.tone = value;
    else if (key === '--token') out.token = value;
    else if (key === '--tcp-only') out.tcpOnly = value === '1';
    else if (key === '--video-codec') out.videoCodec = value;
    else if (key === '--simulcast') out.simulcast = value.split(',');
    else if (key === '--width') out.width = Number(value);
    else if (key === '--height') out.height = Number(value);
    else if (key === '--timeout-ms') out.timeoutMs = Number(value);
    else if (key === '--chromium') out.chromium = value;
    else throw new Error(`unknown argument ${key}`);
  }
  if (!['whip', 'whep'].includes(out.mode)) throw new Error('--mode is whip or whep');
  if (!out.url) throw new Error('--url is required');
  return out;
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`webrtc_page.mjs: ${e.message}`);
  process.exit(2);
}

const say = (o) => console.log(JSON.stringify(o));
const result = {ok: false, mode: args.mode, url: args.url, errors: []};
let browser = null;
try {
  browser = await launchMediaBrowser({executable: args.chromium, tone: args.tone, timeoutMs: args.timeoutMs});
  const {page} = browser;
  page.on('pageerror', (error) => result.errors.push(`pageerror: ${error.message}`));
  await page.exposeFunction('junctionSay', (o) => say(o));
  const origin = new URL(args.url).origin;
  await page.goto(`${origin}/`, {waitUntil: 'load'});

  const report = await page.evaluate(async ({mode, url, seconds, token, timeoutMs, tcpOnly, videoCodec, simulcast,
    width, height}) => {
    const pc = new RTCPeerConnection();
    const headers = {'Content-Type': 'application/sdp'};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (mode === 'whip') {
      // The tone as it is: echo cancelling, noise suppression (which takes a steady tone for
      // noise) and gain control off.
      const media = await navigator.mediaDevices.getUserMedia({
        audio: {echoCancellation: false, noiseSuppression: false, autoGainControl: false},
        video: {width, height},
      });
      for (const track of media.getTracks()) {
        const init = {direction: 'sendonly'};
        if (simulcast && track.kind === 'video')
          init.sendEncodings = simulcast.map((rid, i) => ({rid, scaleResolutionDownBy: 2 ** i}));
        const transceiver = pc.addTransceiver(track, init);
        if (videoCodec && track.kind === 'video') {
          const wanted = RTCRtpSender.getCapabilities('video').codecs.filter(
            (c) => c.mimeType.toLowerCase() === `video/${videoCodec.toLowerCase()}` || c.mimeType === 'video/rtx');
          transceiver.setCodecPreferences(wanted);
        }
      }
    } else {
      pc.addTransceiver('video', {direction: 'recvonly'});
      pc.addTransceiver('audio', {direction: 'recvonly'});
      pc.ontrack = (e) => {
        const element = document.createElement(e.track.kind);
        element.autoplay = true;
        element.muted = e.track.kind === 'video';
        element.srcObject = new MediaStream([e.track]);
        document.body.appendChild(element);
      };
    }
    await pc.setLocalDescription(await pc.createOffer());
    const response = await fetch(url, {method: 'POST', headers, body: pc.localDescription.sdp});
    const answer = await response.text();
    if (response.status !== 201) return {status: response.status, body: answer};
    const location = new URL(response.headers.get('Location'), url).href;
    const taken = tcpOnly
      ? answer.split('\r\n').filter((line) => !/^a=candidate:\S+ \d+ udp /i.test(line)).join('\r\n')
      : answer;
    await pc.setRemoteDescription({type: 'answer', sdp: taken});
    const connected = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(pc.connectionState), timeoutMs);
      const check = () => {
        if (['connected', 'failed', 'closed'].includes(pc.connectionState)) {
          clearTimeout(timer);
          resolve(pc.connectionState);
        }
      };
      pc.onconnectionstatechange = check;
      check();
    });
    await window.junctionSay({event: connected, location});
    if (connected !== 'connected') return {status: 201, connected};
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const stats = {};
    (await pc.getStats()).forEach((s) => {
      if (s.type !== 'outbound-rtp' && s.type !== 'inbound-rtp') return;
      stats[`${s.type}:${s.kind}${s.rid ? `:${s.rid}` : ''}`] = {
        packets: s.packetsSent ?? s.packetsReceived, lost: s.packetsLost, nacks: s.nackCount,
        frames: s.framesEncoded ?? s.framesDecoded, width: s.frameWidth, height: s.frameHeight,
        freezes: s.freezeCount, freeze_seconds: s.totalFreezesDuration, energy: s.totalAudioEnergy,
        level: s.audioLevel, samples: s.totalSamplesReceived, concealed: s.concealedSamples,
        codec: s.codecId, received: s.framesReceived, dropped: s.framesDropped, keyframes: s.keyFramesDecoded,
        plis: s.pliCount, firs: s.firCount, decoder: s.decoderImplementation, encoder: s.encoderImplementation,
      };
    });
    const codecs = {};
    const all = await pc.getStats();
    all.forEach((s) => {
      if (s.type === 'codec') codecs[s.id] = s.mimeType;
    });
    for (const s of Object.values(stats)) s.codec = codecs[s.codec];
    // The candidate pair in use: which protocol carried the media.
    let path = null;
    all.forEach((s) => {
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && !path) {
        const remote = all.get(s.remoteCandidateId);
        path = {protocol: remote?.protocol, port: remote?.port, bytesReceived: s.bytesReceived};
      }
    });
    const deleted = await fetch(location, {method: 'DELETE'});
    pc.close();
    return {status: 201, connected, stats, path, deleted: deleted.status};
  }, {mode: args.mode, url: args.url, seconds: args.seconds, token: args.token, timeoutMs: args.timeoutMs,
    tcpOnly: args.tcpOnly, videoCodec: args.videoCodec, simulcast: args.simulcast, width: args.width,
    height: args.height});
  Object.assign(result, report);
  result.ok = report.connected === 'connected' && !!report.stats && result.errors.length === 0;
} catch (e) {
  result.errors.push(e.message.split('\n')[0]);
} finally {
  if (browser) await browser.close();
}
say(result);
process.exit(result.ok ? 0 : 1);
